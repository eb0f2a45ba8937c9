package policy

import "fmt"

// Decision is the outcome of a policy check for one operation on one user record.
type Decision struct {
	// Allowed reports whether the operation may be performed at all.
	Allowed bool
	// Reason explains the decision, for logs and error messages. It names the client
	// app and the operation, never a user.
	Reason string
	// Fields are the properties to return: requested ∩ allowed, canonical casing,
	// sorted, always including "id". Empty when not allowed.
	Fields []string
	// Withheld are requested properties the client may not see, sorted. They are not
	// an error: the response simply omits them.
	Withheld []string
}

// Allows reports whether the client app may use op. A nil Client allows nothing.
func (c *Client) Allows(op Operation) bool {
	return c != nil && c.ops[op]
}

// Visible returns the set of properties the client may see of its own user (self) or
// of others, sorted, including "id".
func (c *Client) Visible(self bool) []string {
	if c == nil {
		return []string{"id"}
	}
	if self {
		return append([]string(nil), c.SelfFields...)
	}
	return append([]string(nil), c.OtherFields...)
}

// visible reports whether the canonical property f may be seen.
func (c *Client) visible(f string, self bool) bool {
	if f == "id" {
		return true
	}
	if c == nil {
		return false
	}
	if self {
		return c.self[f]
	}
	return c.others[f]
}

// Decide decides whether the client app may perform op on a user record (self reports
// whether the record is the signed-in user's own) and which of the requested
// properties it may see. An empty requested list means Graph's default property set.
// Requested names are matched case-insensitively; unknown names are withheld; a
// property with the same value for every served user (accountEnabled, see
// ConstantValue) is shown to every client. A nil Client (an unknown app) is denied.
func (c *Client) Decide(op Operation, self bool, requested []string) Decision {
	if c == nil {
		return Decision{Reason: "unknown client app: no policy grants it anything"}
	}
	if !c.ops[op] {
		return Decision{Reason: fmt.Sprintf("client %q may not use operation %q", c.Name, op)}
	}
	if len(requested) == 0 {
		requested = DefaultFields
	}
	fields := map[string]bool{"id": true}
	withheld := map[string]bool{}
	for _, name := range requested {
		f, known := CanonicalField(name)
		switch {
		case known && (c.visible(f, self) || constantFields[f] != nil):
			fields[f] = true
		case known:
			withheld[f] = true
		default:
			withheld[SafeIdent(name)] = true
		}
	}
	d := Decision{Allowed: true, Fields: sortedSet(fields)}
	if len(withheld) > 0 {
		d.Withheld = sortedSet(withheld)
	}
	whose := "others'"
	if self {
		whose = "own"
	}
	d.Reason = fmt.Sprintf("client %q may use operation %q on %s profile; %d field(s) shown, %d withheld",
		c.Name, op, whose, len(d.Fields), len(d.Withheld))
	return d
}
