package emulator_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

func TestThrottle(t *testing.T) {
	e := fresh(t)
	contoso := appToken(t, e, "contoso.example")
	fabrikam := appToken(t, e, "fabrikam.example")
	ti := tenant(t, e, "contoso.example")
	path := "/v1.0/users/" + ti.Users[0].ID
	e.SetThrottle(emulator.Throttle{Budget: 3, Window: time.Minute, RetryAfter: 1500 * time.Millisecond})
	for i := range 3 {
		if st, m := graphGet(t, e, contoso, path, nil); st != 200 {
			t.Fatalf("request %d: %d %v", i, st, m)
		}
	}
	resp, b := do(t, e, http.MethodGet, path, contoso, nil, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1.5" || errCode(decodeObj(t, b)) != "TooManyRequests" {
		t.Fatalf("4th request: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// The budget is per app and tenant: fabrikam's gateway app is unaffected.
	if st, _ := graphGet(t, e, fabrikam, "/v1.0/users?$top=1", nil); st != 200 {
		t.Fatalf("fabrikam throttled: %d", st)
	}
	// Without a fixed RetryAfter the header holds the rest of the window.
	e.SetThrottle(emulator.Throttle{Budget: 1, Window: 30 * time.Second})
	graphGet(t, e, contoso, path, nil)
	resp, _ = do(t, e, http.MethodGet, path, contoso, nil, nil)
	ra, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64)
	if resp.StatusCode != 429 || err != nil || ra <= 0 || ra > 30 {
		t.Fatalf("window remainder: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.SetThrottle(emulator.Throttle{})
	if st, _ := graphGet(t, e, contoso, path, nil); st != 200 {
		t.Fatalf("after throttle off: %d", st)
	}
}

func TestFaults(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	user := "/v1.0/users/" + ti.Users[0].ID
	tests := []struct {
		name, route string
		fault       emulator.Fault
		path        string
		status      int
		code        string
	}{
		{"route 503", "GET /v1.0/users/{id}", emulator.Fault{ErrorRate: 1}, user, 503, "serviceNotAvailable"},
		{"route 500", "GET /v1.0/users/{id}", emulator.Fault{ErrorRate: 1, Status: 500}, user, 500, "generalException"},
		{"other route untouched", "GET /v1.0/users/{id}/manager", emulator.Fault{ErrorRate: 1, Status: 500}, user, 200, ""},
		{"all graph routes", "", emulator.Fault{ErrorRate: 1, Status: 504}, "/v1.0/users", 504, "GatewayTimeout"},
		{"latency only", "GET /v1.0/users/{id}", emulator.Fault{Latency: 40 * time.Millisecond}, user, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.ResetFaults()
			e.SetFault(tc.route, tc.fault)
			start := time.Now()
			st, m := graphGet(t, e, tok, tc.path, nil)
			if st != tc.status || errCode(m) != tc.code {
				t.Fatalf("got %d %v", st, m)
			}
			if time.Since(start) < tc.fault.Latency {
				t.Fatalf("latency fault not applied")
			}
		})
	}
	t.Run("token endpoint fault", func(t *testing.T) {
		e.ResetFaults()
		e.SetFault("POST /{tenant}/oauth2/v2.0/token", emulator.Fault{ErrorRate: 1, Status: 503})
		resp, _ := do(t, e, http.MethodPost, "/"+ti.ID+"/oauth2/v2.0/token", "", nil, nil)
		if resp.StatusCode != 503 {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	// "reset" sets up the faults and throttling it clears, so it tests ResetFaults whichever
	// subtests ran before it (go test -run may select it alone).
	t.Run("reset", func(t *testing.T) {
		e.SetFault("GET /v1.0/users/{id}", emulator.Fault{ErrorRate: 1, Status: 500})
		e.SetFault("", emulator.Fault{ErrorRate: 1, Status: 504})
		for path, want := range map[string]int{user: 500, "/v1.0/users": 504} {
			if st, _ := graphGet(t, e, tok, path, nil); st != want {
				t.Fatalf("%s before reset: %d, want %d", path, st, want)
			}
		}
		e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute})
		e.ResetFaults()
		for _, path := range []string{user, "/v1.0/users", user} {
			if st, _ := graphGet(t, e, tok, path, nil); st != 200 {
				t.Fatalf("%s after reset: %d, want 200 (no fault, no throttling)", path, st)
			}
		}
	})
}

func TestOutage(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	e.SetOutage(true)
	req, _ := http.NewRequest(http.MethodGet, e.URL()+"/v1.0/users/"+ti.Users[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := e.HTTPClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("outage: got status %d, want a connection failure", resp.StatusCode)
	}
	// The control API keeps working during an outage.
	if resp, _ := do(t, e, http.MethodGet, "/_emulator/directory", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("control API during outage: %d", resp.StatusCode)
	}
	e.SetOutage(false)
	if st, _ := graphGet(t, e, tok, "/v1.0/users/"+ti.Users[0].ID, nil); st != 200 {
		t.Fatalf("after outage: %d", st)
	}
}

func TestRequestLog(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	if e.Count("POST /{tenant}/oauth2/v2.0/token") != 1 {
		t.Fatalf("token requests = %d", e.Count("POST /{tenant}/oauth2/v2.0/token"))
	}
	e.ResetRequests()
	graphGet(t, e, tok, "/v1.0/users/"+ti.Users[0].ID+"?$select=displayName,Mail", nil)
	graphGet(t, e, tok, "/v1.0/users/"+ti.Users[1].ID+"/photos/48x48/$value", nil)
	graphGet(t, e, tok, "/v1.0/users?$top=2", nil)
	reqs := e.Requests()
	if len(reqs) != 3 || e.Count("") != 3 || e.Count("GET /v1.0/users/{id}") != 1 ||
		e.Count("GET /v1.0/users/{id}/photos/{size}/$value") != 1 || e.Count("GET /v1.0/users") != 1 {
		t.Fatalf("log = %+v", reqs)
	}
	r := reqs[0]
	if r.Method != "GET" || r.Route != "GET /v1.0/users/{id}" || r.TenantID != ti.ID || r.AppID != ti.GatewayAppID ||
		!slices.Equal(r.Select, []string{"displayName", "Mail"}) || r.Status != 200 || r.InBatch || r.Time.IsZero() {
		t.Fatalf("entry = %+v", r)
	}
	e.ResetRequests()
	if len(e.Requests()) != 0 {
		t.Fatal("ResetRequests kept entries")
	}
}

// TestThrottleWithoutRetryAfter: Graph may answer 429 without Retry-After ("If no
// Retry-After header is provided by the response, we recommend implementing an
// exponential backoff retry policy", https://learn.microsoft.com/en-us/graph/throttling);
// Throttle.OmitRetryAfter and Fault.OmitRetryAfter make the emulator do so predictably.
func TestThrottleWithoutRetryAfter(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	path := "/v1.0/users/" + ti.Users[0].ID
	tests := []struct {
		name string
		omit int
		want []bool // Retry-After present on the 1st, 2nd, … 429
	}{
		{"always sent", 0, []bool{true, true, true}},
		{"never sent", 1, []bool{false, false, false}},
		{"every second 429 without", 2, []bool{false, true, false, true}},
		{"every third 429 without", 3, []bool{false, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: 2 * time.Second, OmitRetryAfter: tc.omit})
			defer e.ResetFaults()
			graphGet(t, e, tok, path, nil)
			for i, want := range tc.want {
				resp, b := do(t, e, http.MethodGet, path, tok, nil, nil)
				ra, has := resp.Header["Retry-After"]
				if resp.StatusCode != 429 || errCode(decodeObj(t, b)) != "TooManyRequests" || has != want || (has && ra[0] != "2") {
					t.Fatalf("429 #%d: %d Retry-After %q, want present=%v", i+1, resp.StatusCode, ra, want)
				}
			}
		})
	}
	t.Run("control API", func(t *testing.T) {
		defer e.ResetFaults()
		body := `{"budget":1,"window_ms":60000,"retry_after_seconds":2,"omit_retry_after":1}`
		if resp, b := do(t, e, http.MethodPut, "/_emulator/throttle", "", strings.NewReader(body), nil); resp.StatusCode != 204 {
			t.Fatalf("PUT /_emulator/throttle: %d %s", resp.StatusCode, b)
		}
		graphGet(t, e, tok, path, nil)
		if resp, _ := do(t, e, http.MethodGet, path, tok, nil, nil); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" {
			t.Fatalf("got %d Retry-After %q, want 429 without it", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("fault", func(t *testing.T) {
		defer e.ResetFaults()
		for _, omit := range []bool{false, true} {
			e.SetFault(userRouteT, emulator.Fault{ErrorRate: 1, Status: 429, OmitRetryAfter: omit})
			resp, _ := do(t, e, http.MethodGet, path, tok, nil, nil)
			if resp.StatusCode != 429 || (resp.Header.Get("Retry-After") == "") != omit {
				t.Fatalf("fault omit=%v: %d Retry-After %q", omit, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
	})
}

const userRouteT = "GET /v1.0/users/{id}"
