package emulator

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/spec"
)

// TestPeopleTopCap: a $top above spec.MaxPeopleTop is not refused; the page holds
// MaxPeopleTop people and the nextLink keeps the $top as sent with $skip=MaxPeopleTop.
func TestPeopleTopCap(t *testing.T) {
	r := httptest.NewRequest("GET", "https://e.example/v1.0/users/x/people?$top=5000&$select=displayName", nil)
	pq, qerr := parsePeopleQuery(r)
	if qerr != nil || pq.top != spec.MaxPeopleTop || !pq.hasTop {
		t.Fatalf("parse: %+v %v", pq, qerr)
	}
	people := make([]Person, spec.MaxPeopleTop+500)
	for i := range people {
		people[i] = Person{ID: strconv.Itoa(i), RelevanceScore: relevance(i)}
	}
	e := &Emulator{url: "https://e.example"}
	var value []ordered
	var next string
	for _, m := range e.peoplePage(r, pq, "x", people) {
		switch m.k {
		case "value":
			value = m.v.([]ordered)
		case "@odata.nextLink":
			next = m.v.(string)
		}
	}
	if len(value) != spec.MaxPeopleTop || !strings.Contains(next, "%24top=5000") ||
		!strings.HasSuffix(next, "%24skip="+strconv.Itoa(spec.MaxPeopleTop)) {
		t.Fatalf("%d people, nextLink %q", len(value), next)
	}
	if relevance(spec.MaxPeopleTop-1) >= relevance(spec.MaxPeopleTop-2) {
		t.Fatal("scores of the first page do not decrease")
	}
}
