package odata_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/graphgate/graphgate/proxy/odata"
)

// FuzzParse checks that Parse never panics, refuses only with *odata.Error, and that the
// @odata.nextLink query Encode builds parses back to the same Query.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "$select=displayName,mail", "select=USERTYPE,mailNickname", "$top=5&$count=TRUE",
		"$search=%22displayName%3Aa%22&$filter=startswith(displayName,'a')&$orderby=displayName",
		"$skiptoken=abc&$skiptoken=", "$expand=manager", "$select=%zz", "a=1;b=2", "$$select=id",
		"$select=&$top=999&$skiptoken=", "%24select=id&x=%00",
		"$expand=manager($levels=max;$select=id,accountEnabled)&$select=id&$count=true", "$expand=manager(levels=2);x",
	} {
		f.Add(seed, uint16(odata.List))
		f.Add(seed, uint16(odata.Entity))
		f.Add(seed, uint16(odata.User))
	}
	f.Fuzz(func(t *testing.T, raw string, allowed uint16) {
		q, err := odata.Parse(raw, odata.Options(allowed))
		if err != nil {
			var oe *odata.Error
			if !errors.As(err, &oe) || (oe.Code != odata.CodeBadRequest && oe.Code != odata.CodeUnsupportedQuery) || oe.Message == "" {
				t.Fatalf("Parse(%q): error %v (%T)", raw, err, err)
			}
			return
		}
		enc := q.Encode(q.SkipToken)
		if len(enc) > odata.MaxQueryLength {
			return // re-escaping may lengthen a query near the limit
		}
		back, err := odata.Parse(enc, odata.Options(allowed))
		if err != nil {
			t.Fatalf("Parse(%q) = %v; Encode gave %q, refused: %v", raw, exported(q), enc, err)
		}
		if !reflect.DeepEqual(exported(back), exported(q)) || back.RawSelect() != q.RawSelect() {
			t.Fatalf("Parse(%q) = %+v; Encode gave %q, parsed as %+v", raw, exported(q), enc, exported(back))
		}
		if again := back.Encode(back.SkipToken); again != enc {
			t.Fatalf("Encode is not stable: %q then %q", enc, again)
		}
	})
}
