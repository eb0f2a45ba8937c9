package proxy_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestSelectOfUnservedGraphPropertiesIsWithheld is the regression test for Microsoft
// Graph Toolkit's mgt-person, whose $select names userType (and names some properties
// twice): Graph accepts it, so the gateway answers with the fields it serves and lists
// the others as withheld instead of refusing the request. Unknown names stay a 400.
func TestSelectOfUnservedGraphPropertiesIsWithheld(t *testing.T) {
	e := newEnv(t)
	me := e.enabledUsers(0)[0]
	colleague := e.enabledUsers(0)[2]
	tok := e.token(0, "chat-web", me)
	toolkit := "businessPhones,displayName,givenName,jobTitle,department,mail,mobilePhone,officeLocation," +
		"preferredLanguage,surname,userPrincipalName,id,userType,displayName,jobTitle,department"
	cases := []struct {
		name, path string
		want       []string // the response's properties, without @odata.context
		withheld   []string // must be in Graphgate-Withheld-Fields
	}{
		{"toolkit person", "/v1.0/users/" + colleague.ID + "?$select=" + url.QueryEscape(toolkit),
			[]string{"displayName", "id", "jobTitle", "mail"}, []string{"userType", "department", "mobilePhone"}},
		{"only unserved", "/v1.0/me?$select=userType,UserType,mailNickname",
			[]string{"id"}, []string{"userType", "mailNickname"}},
		{"list", "/v1.0/users?$top=2&$select=displayName,userType",
			nil, []string{"userType"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tok)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			body := r.JSON(t)
			if tc.want != nil {
				var got []string
				for k := range body {
					if k != "@odata.context" {
						got = append(got, k)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("properties %v, want %v", got, tc.want)
				}
			}
			withheld := strings.Split(r.Header.Get("Graphgate-Withheld-Fields"), ",")
			for _, f := range tc.withheld {
				if !slices.Contains(withheld, f) {
					t.Errorf("Graphgate-Withheld-Fields %v lacks %s", withheld, f)
				}
			}
			if strings.Contains(string(r.Body), `"userType":`) {
				t.Errorf("body has a userType property: %s", r.Body)
			}
		})
	}
	t.Run("in a batch", func(t *testing.T) {
		r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": []map[string]any{
			{"id": "1", "method": "GET", "url": "/users/" + colleague.ID + "?$select=" + toolkit},
		}})
		resps, _ := r.JSON(t)["responses"].([]any)
		if r.Status != http.StatusOK || len(resps) != 1 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if st := resps[0].(map[string]any)["status"]; st != float64(200) {
			t.Errorf("batch item status %v: %s", st, r.Body)
		}
	})
	for _, sel := range []string{"salary", "userType,salary", "userType,", "*,userType"} {
		t.Run("still refused "+sel, func(t *testing.T) {
			r := e.get("/v1.0/me?$select="+url.QueryEscape(sel), tok)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", r.Status, r.Body)
			}
			errorCode(t, r)
		})
	}
}

// TestWithheldIsReportedOnA400: a 400 for $top or $count still says which unserved
// properties the $select named (as before the layer split).
func TestWithheldIsReportedOnA400(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	for _, path := range []string{"/v1.0/users?$select=userType&$top=1000", "/v1.0/users?$select=displayName,userType&$count=yes"} {
		r := e.get(path, tok, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusBadRequest || r.Header.Get("Graphgate-Withheld-Fields") != "userType" {
			t.Errorf("%s: %d, Graphgate-Withheld-Fields %q; want 400 with userType", path, r.Status, r.Header.Get("Graphgate-Withheld-Fields"))
		}
	}
}
