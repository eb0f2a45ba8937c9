package main

import (
	"fmt"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
)

// dashboardHint tells the demo's user where the usage dashboard is and how to get an
// analyst's token for it (a paragraph of the demo's intro, or "" when the directory has
// no analyst). The token is pasted into the page: it never travels in a URL, where it
// would leak into history, logs and Referer headers.
func dashboardHint(t emulator.TenantInfo, emuURL, gwURL string) string {
	var analyst, client string
	for _, u := range t.Users {
		if !u.AccountEnabled || analyst != "" {
			continue
		}
		for _, r := range u.Roles {
			if r == proxy.RoleAnalyst {
				analyst = u.UserPrincipalName
			}
		}
	}
	for _, c := range t.Clients {
		if c.Name == "intranet-directory" || client == "" {
			client = c.ID
		}
	}
	if analyst == "" || client == "" {
		return ""
	}
	return fmt.Sprintf(`
Usage dashboard (analysts): open %s/usage/ and paste a token of a user holding the app
role %s into its token box. For the demo's analyst:

  curl -sk %s/%s/oauth2/v2.0/token \
    -d grant_type=password -d client_id=%s -d 'scope=%s' \
    -d username=%s -d password=%s | sed -E 's/.*"access_token":"([^"]+)".*/\1/'

`, gwURL, proxy.RoleAnalyst, emuURL, t.ID, client, t.Scope, analyst, t.Password)
}
