package emulator_test

import (
	"slices"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestEdgeUsers checks contoso's edge-case users: appended after the generated users
// (whose ids do not move), with the same ids in DefaultDirectory and GenerateDirectory,
// enabled, in the org chart, the guest typed Guest with her partner mail.
func TestEdgeUsers(t *testing.T) {
	def := emulator.DefaultDirectory().Tenants[0]
	gen := emulator.GenerateDirectory(7, 2, 200).Tenants[0]
	for _, d := range []*emulator.Tenant{def, gen} {
		tail := d.Users[len(d.Users)-len(emulatorEdgeUPNs):]
		for i, u := range tail {
			if u.UserPrincipalName != emulatorEdgeUPNs[i] || !u.AccountEnabled || u.ManagerID == "" {
				t.Fatalf("%s: edge user %d = %+v", d.Domain, i, u)
			}
			if g := gen.Users[len(gen.Users)-len(emulatorEdgeUPNs)+i]; g.ID != u.ID {
				t.Fatalf("%s: id %s differs from GenerateDirectory's %s", u.UserPrincipalName, u.ID, g.ID)
			}
		}
	}
	if n := len(def.Users) - len(emulatorEdgeUPNs); n != 60 {
		t.Fatalf("contoso has %d generated users, want 60", n)
	}
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	guest, _ := e.User(ti.ID, emulator.GuestUPN)
	if guest.UserType != "Guest" || guest.Mail != "gwen@partner.example" {
		t.Fatalf("guest = %+v", guest)
	}
	st, m := graphGet(t, e, tok, "/v1.0/users/"+guest.ID+"?$select=userType,mail,mailNickname", nil)
	if st != 200 || m["userType"] != "Guest" || m["mail"] != "gwen@partner.example" || m["mailNickname"] != "gwen_partner.example#EXT#" {
		t.Fatalf("guest over Graph: %d %v", st, m)
	}
	st, m = graphGet(t, e, tok, "/v1.0/users/"+guest.ManagerID+"/directReports?$select=id&$top=999", nil)
	ids := []string{}
	for _, x := range m["value"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	if st != 200 || !slices.Contains(ids, guest.ID) {
		t.Fatalf("guest missing from her manager's direct reports: %d %v", st, ids)
	}
}
