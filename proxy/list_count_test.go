package proxy_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCountAsGraphAnswersIt checks @odata.count through the gateway as Graph answers
// it: $count=true without ConsistencyLevel: eventual is silently ignored, not refused
// (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects),
// and with it @odata.count is on the first page only (https://learn.microsoft.com/graph/paging).
func TestCountAsGraphAnswersIt(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	enabled := len(e.enabledUsers(0))

	r := e.get("/v1.0/users?"+encodeQuery(`$count=true&$top=5&$select=displayName`), tok)
	if r.Status != http.StatusOK {
		t.Fatalf("$count=true without ConsistencyLevel: %d %s", r.Status, r.Body)
	}
	if body := r.JSON(t); body["@odata.count"] != nil || len(body["value"].([]any)) != 5 {
		t.Fatalf("$count=true without ConsistencyLevel: @odata.count %v, %d users", body["@odata.count"], len(body["value"].([]any)))
	}

	next, pages, listed := "/v1.0/users?"+encodeQuery(`$count=true&$top=25&$select=displayName`), 0, 0
	for ; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		r = e.get(next, tok, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
		}
		body := r.JSON(t)
		n, counted := body["@odata.count"].(float64)
		switch {
		case pages == 0 && (!counted || int(n) != enabled):
			t.Errorf("first page: @odata.count %v, want %d", body["@odata.count"], enabled)
		case pages > 0 && counted:
			t.Errorf("page %d: @odata.count %v on a later page", pages, n)
		}
		listed += len(body["value"].([]any))
		link, _ := body["@odata.nextLink"].(string)
		next = strings.TrimPrefix(link, e.url)
	}
	if pages < 2 || listed != enabled {
		t.Errorf("%d users over %d pages, want %d over several", listed, pages, enabled)
	}
}
