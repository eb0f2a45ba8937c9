package graph

import "testing"

// TestServiceOf: each Graph service has its own throttling gate; a key never decides.
func TestServiceOf(t *testing.T) {
	for path, want := range map[string]service{
		"/v1.0/users/0b6c/photos/48x48/$value":              photos,
		"/v1.0/users/0b6c/photo/$value":                     photos,
		"/v1.0/users/0b6c/presence":                         presence,
		"/v1.0/communications/getPresencesByUserId":         presence,
		"/v1.0/users/presence@contoso.example":              directory,
		"/v1.0/users/photo@contoso.example/manager":         directory,
		"/v1.0/users/photos/directReports":                  directory,
		"/v1.0/users":                                       directory,
		"/v1.0/$batch":                                      directory,
		"/v1.0/users/0b6c/revokeSignInSessions":             directory,
		"/v1.0/users/presence@contoso.example/photo/$value": photos,
		"/v1.0/users/photo@contoso.example/presence":        presence,
		"/v1.0/users/0b6c/people":                           people,
		"/v1.0/users/people@contoso.example":                directory,
		"/v1.0/users/people@contoso.example/photo":          photos,
	} {
		if got := serviceOf(path); got != want {
			t.Errorf("serviceOf(%q) = %d, want %d", path, got, want)
		}
	}
}
