package proxy_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/policy"
)

// allFields selects every property the gateway knows, to see what slips through.
var allFields = "$select=" + strings.Join(policy.KnownFields, ",")

// meta are the OData annotations a Graph response may carry besides fields.
var meta = []string{"@odata.context", "@odata.type", "@odata.nextLink", "@odata.count"}

// checked counts the objects checkFields looked at, so a test can tell it checked something.
var checked int

// checkFields fails if obj holds a field that is neither meta nor visible.
func checkFields(t *testing.T, where string, obj map[string]any, visible []string) {
	t.Helper()
	checked++
	for k := range obj {
		if k == "accountEnabled" && obj[k] == true {
			continue // shown to every client: every account the gateway serves is enabled
		}
		if !slices.Contains(meta, k) && !slices.Contains(visible, k) {
			t.Errorf("%s: field %q is not visible to this client", where, k)
		}
	}
}

// TestNoResponseHoldsAHiddenField drives every read route for every fixture user and every
// client app, and checks every object in every response against the client's policy.
func TestNoResponseHoldsAHiddenField(t *testing.T) {
	e := newEnv(t)
	caller := e.enabledUsers(0)[0]
	checked = 0
	defer func() {
		if checked < 500 {
			t.Errorf("only %d response objects were checked", checked)
		}
	}()
	for _, c := range e.tenant(0).Clients {
		cl, ok := e.pol.Client(c.ID)
		if !ok {
			continue
		}
		tok := e.token(0, c.Name, caller)
		others, self := cl.Visible(false), cl.Visible(true)
		t.Run(c.Name, func(t *testing.T) {
			for _, u := range e.tenant(0).Users {
				visible := others
				if u.ID == caller.ID {
					visible = self
				}
				for _, path := range []string{"/v1.0/users/" + u.ID, "/v1.0/users/" + u.ID + "?" + allFields, "/v1.0/users/" + u.UserPrincipalName + "?" + allFields} {
					if r := e.get(path, tok); r.Status == http.StatusOK {
						checkFields(t, "user", r.JSON(t), visible)
					}
				}
				if r := e.get("/v1.0/users/"+u.ID+"/manager?"+allFields, tok); r.Status == http.StatusOK {
					m := r.JSON(t)
					v := others
					if m["id"] == caller.ID {
						v = self
					}
					checkFields(t, "manager", m, v)
				}
				if r := e.get("/v1.0/users/"+u.ID+"/directReports?"+allFields, tok); r.Status == http.StatusOK {
					for _, item := range r.JSON(t)["value"].([]any) {
						m := item.(map[string]any)
						v := others
						if m["id"] == caller.ID {
							v = self
						}
						checkFields(t, "directReports", m, v)
					}
				}
			}
			// Search and list: only others' fields, whatever is asked.
			for _, q := range []string{"/v1.0/users?$top=999", "/v1.0/users?$top=999&" + allFields} {
				if r := e.get(q, tok, "ConsistencyLevel", "eventual"); r.Status == http.StatusOK {
					for _, item := range r.JSON(t)["value"].([]any) {
						checkFields(t, "list", item.(map[string]any), others)
					}
				}
			}
			// /me with every field.
			if r := e.get("/v1.0/me?"+allFields, tok); r.Status == http.StatusOK {
				checkFields(t, "me", r.JSON(t), self)
			}
			// $batch: the same limits inside every item.
			users := e.tenant(0).Users
			for start := 0; start < len(users); start += 20 {
				end := min(start+20, len(users))
				var reqs []map[string]any
				for _, u := range users[start:end] {
					reqs = append(reqs, map[string]any{"id": u.ID, "method": "GET", "url": "/users/" + u.ID + "?" + allFields})
				}
				r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": reqs})
				if r.Status != http.StatusOK {
					t.Fatalf("batch: %d %s", r.Status, r.Body)
				}
				var br batchResp
				if err := json.Unmarshal(r.Body, &br); err != nil {
					t.Fatal(err)
				}
				for _, it := range br.Responses {
					if it.Status != http.StatusOK {
						continue
					}
					var m map[string]any
					if err := json.Unmarshal(it.Body, &m); err != nil {
						t.Fatal(err)
					}
					v := others
					if it.ID == caller.ID {
						v = self
					}
					checkFields(t, "batch item", m, v)
				}
			}
		})
	}
}

// TestEveryUserSeesOnlyTheirOwnAllowedFields signs every fixture user in with every client
// app and checks /me.
func TestEveryUserSeesOnlyTheirOwnAllowedFields(t *testing.T) {
	e := newEnv(t)
	for _, c := range e.tenant(0).Clients {
		cl, ok := e.pol.Client(c.ID)
		if !ok {
			continue
		}
		for _, u := range e.enabledUsers(0) {
			r := e.get("/v1.0/me?"+allFields, e.token(0, c.Name, u))
			if r.Status != http.StatusOK {
				t.Fatalf("%s /me: %d %s", c.Name, r.Status, r.Body)
			}
			body := r.JSON(t)
			if body["id"] != u.ID {
				t.Fatalf("/me answered with another user")
			}
			checkFields(t, c.Name+" /me", body, cl.Visible(true))
		}
	}
}
