package directory

import (
	"errors"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// TestWalkChain walks hand-made org charts: managers[x] is x's manager.
func TestWalkChain(t *testing.T) {
	errDown := errors.New("upstream down")
	tests := []struct {
		name     string
		managers map[string]string // "" manager: ErrNotFound; "!": errDown
		start    string
		levels   int
		want     string
		wantErr  error
	}{
		{"no manager", map[string]string{}, "a", 5, "", nil},
		{"to the top", map[string]string{"a": "b", "b": "c"}, "a", MaxChain, "b,c", nil},
		{"bounded", map[string]string{"a": "b", "b": "c", "c": "d"}, "a", 2, "b,c", nil},
		{"levels below 1 is 1", map[string]string{"a": "b", "b": "c"}, "a", 0, "b", nil},
		{"cycle", map[string]string{"a": "b", "b": "c", "c": "a"}, "a", MaxChain, "b,c", nil},
		{"cycle not through the start", map[string]string{"a": "b", "b": "c", "c": "B"}, "a", MaxChain, "b,c", nil},
		{"self-managed", map[string]string{"a": "A"}, "a", MaxChain, "", nil},
		{"error mid-chain", map[string]string{"a": "b", "b": "!"}, "a", MaxChain, "", errDown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			next := func(id string) (graph.User, cache.Outcome, error) {
				calls++
				m, ok := tc.managers[strings.ToLower(id)]
				switch {
				case !ok:
					return nil, cache.OutcomeHit, ErrNotFound
				case m == "!":
					return nil, cache.OutcomeMiss, errDown
				}
				return graph.User{"id": m}, cache.OutcomeHit, nil
			}
			chain, _, err := walkChain(tc.start, tc.levels, next)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var ids []string
			for _, u := range chain {
				ids = append(ids, strings.ToLower(u.ID()))
			}
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("chain = %q, want %q", got, tc.want)
			}
			if calls > len(tc.managers)+1 {
				t.Errorf("%d lookups for %d managers", calls, len(tc.managers))
			}
		})
	}
}

func TestWalkChainLongest(t *testing.T) {
	calls := 0
	next := func(id string) (graph.User, cache.Outcome, error) {
		calls++
		return graph.User{"id": id + "x"}, cache.OutcomeHit, nil // an endless chain
	}
	chain, _, err := walkChain("u", 5000, next)
	if err != nil || len(chain) != MaxChain || calls != MaxChain {
		t.Fatalf("chain of %d after %d lookups, %v; want %d", len(chain), calls, err, MaxChain)
	}
}

func TestLeastCached(t *testing.T) {
	outcomes := func(os ...cache.Outcome) func(string) (graph.User, cache.Outcome, error) {
		i := 0
		return func(id string) (graph.User, cache.Outcome, error) {
			o := os[i]
			i++
			if i == len(os) {
				return nil, o, ErrNotFound
			}
			return graph.User{"id": id + "x"}, o, nil
		}
	}
	for _, tc := range []struct {
		in   []cache.Outcome
		want cache.Outcome
	}{
		{[]cache.Outcome{cache.OutcomeHit, cache.OutcomeHit}, cache.OutcomeHit},
		{[]cache.Outcome{cache.OutcomeHit, cache.OutcomeShared, cache.OutcomeHit}, cache.OutcomeShared},
		{[]cache.Outcome{cache.OutcomeShared, cache.OutcomeMiss, cache.OutcomeHit}, cache.OutcomeMiss},
	} {
		if _, got, _ := walkChain("u", MaxChain, outcomes(tc.in...)); got != tc.want {
			t.Errorf("%v: outcome %s, want %s", tc.in, got, tc.want)
		}
	}
}
