package policy

import (
	"fmt"
	"strings"
)

// The $orderby grammar: a comma-separated list of `prop [asc|desc]` (case-insensitive),
// each property at most once, prop one of orderableFields and visible to the caller.

// orderableFields are the properties Graph can sort users by.
var orderableFields = map[string]bool{"displayName": true, "userPrincipalName": true}

// CheckOrderBy validates an $orderby value against the grammar above and the properties
// the client may see of other users, and returns its normalized form. An empty value
// gives "". Errors match ErrInvalidQuery.
func (c *Client) CheckOrderBy(raw string) (string, error) {
	if c == nil {
		return "", &QueryError{Msg: "unknown client app"}
	}
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	if len(raw) > 256 {
		return "", &QueryError{Msg: "$orderby is too long"}
	}
	var out []string
	seen := map[string]bool{}
	for i, item := range strings.Split(raw, ",") {
		words := strings.Fields(item)
		if len(words) == 0 || len(words) > 2 {
			return "", &QueryError{Msg: fmt.Sprintf("item %d must be a property optionally followed by asc or desc", i+1)}
		}
		f, known := CanonicalField(words[0])
		switch {
		case !known:
			return "", &QueryError{Msg: fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'", SafeIdent(words[0]))}
		case !orderableFields[f]:
			return "", &QueryError{Msg: fmt.Sprintf("sorting by '%s' is not supported; use displayName or userPrincipalName", f)}
		case !c.visible(f, false):
			return "", &QueryError{Msg: fmt.Sprintf("property '%s' is not visible to client %q", f, c.Name)}
		case seen[f]:
			return "", &QueryError{Msg: fmt.Sprintf("property '%s' is listed twice", f)}
		}
		seen[f] = true
		if len(words) == 2 {
			dir := strings.ToLower(words[1])
			if dir != "asc" && dir != "desc" {
				return "", &QueryError{Msg: fmt.Sprintf("item %d: expected asc or desc after '%s'", i+1, f)}
			}
			f += " " + dir
		}
		out = append(out, f)
	}
	return strings.Join(out, ","), nil
}
