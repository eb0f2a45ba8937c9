package emulator

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Paging as Graph documents it (https://learn.microsoft.com/graph/paging): a page that
// leaves results out carries @odata.nextLink, "a URL to the next page of results"
// which "contains all the other query parameters present in the original request" and
// a $skiptoken, an opaque token; "Do not try to extract the $skiptoken ... and use it in
// a different request". Here the token binds to the path and the other options.

// pageKey fingerprints the path and query (without $skiptoken) a skip token belongs to.
func pageKey(r *http.Request) string {
	q := r.URL.Query()
	h := sha256.New()
	path := r.URL.Path
	if st := state(r); st.keyed {
		path = st.path
	}
	h.Write([]byte(strings.ToLower(path) + "?"))
	for _, k := range pageParams(q) {
		h.Write([]byte(k + "=" + strings.Join(q[k], ",") + "&"))
	}
	return b64.EncodeToString(h.Sum(nil))[:12]
}

// pageParams returns the query's parameter names without $skiptoken, sorted.
func pageParams(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if !strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// skipToken is the opaque content of $skiptoken.
type skipToken struct {
	Offset int    `json:"o"`
	Key    string `json:"k"`
}

// skipTokenPrefix starts every skip token, as Graph's directory tokens start with it.
const skipTokenPrefix = "RFNwdAIAAQ"

func decodeSkipToken(s, key string) (int, bool) {
	raw, err := b64.DecodeString(strings.TrimPrefix(s, skipTokenPrefix))
	if err != nil {
		return 0, false
	}
	var t skipToken
	if json.Unmarshal(raw, &t) != nil || t.Key != key || t.Offset < 0 {
		return 0, false
	}
	return t.Offset, true
}

// nextLink builds @odata.nextLink: the same path and query plus a $skiptoken for offset.
func (e *Emulator) nextLink(r *http.Request, offset int) string {
	raw, _ := json.Marshal(skipToken{Offset: offset, Key: pageKey(r)})
	q := r.URL.Query()
	var sb strings.Builder
	for _, k := range pageParams(q) {
		for _, v := range q[k] {
			sb.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v) + "&")
		}
	}
	return e.url + requestPath(r) + "?" + sb.String() + "$skiptoken=" + skipTokenPrefix + b64.EncodeToString(raw)
}
