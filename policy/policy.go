package policy

import (
	"sort"
	"strings"
)

// Policy is a parsed, validated policy: the client apps that may use the gateway and
// what each may see. A Policy is immutable and safe for concurrent use.
type Policy struct {
	clients  []*Client
	byID     map[string]*Client
	upstream []string
}

// Client is one client app's grant. Its exported fields describe it for transparency
// pages and must be treated as read-only; decisions use private copies.
type Client struct {
	// AppID is the client app's Entra application (client) id, lower-case.
	AppID string
	// Name is the short name used in reasons, logs and metrics.
	Name string
	// Purpose says, for people, why the app sees what it sees.
	Purpose string
	// Operations lists the allowed operations in file order.
	Operations []Operation
	// SelfFields lists, sorted, the properties the app may see of the signed-in user's
	// own profile; it always includes "id".
	SelfFields []string
	// OtherFields lists, sorted, the properties the app may see of other users; it
	// always includes "id".
	OtherFields []string

	ops    map[Operation]bool
	self   map[string]bool
	others map[string]bool
}

// Client returns the grant of the client app with the given app id (a GUID, matched
// case-insensitively). An unknown app has no grant.
func (p *Policy) Client(appID string) (*Client, bool) {
	if p == nil {
		return nil, false
	}
	c, ok := p.byID[strings.ToLower(strings.TrimSpace(appID))]
	return c, ok
}

// Clients returns every client app's grant in file order.
func (p *Policy) Clients() []*Client {
	if p == nil {
		return nil
	}
	return append([]*Client(nil), p.clients...)
}

// UpstreamFields returns the sorted union of every property any client app may see,
// of its own user or others, plus InternalFields: exactly what the gateway asks Graph
// for. A new slice is returned on each call.
func (p *Policy) UpstreamFields() []string {
	if p == nil {
		return sortedCopy(InternalFields)
	}
	return append([]string(nil), p.upstream...)
}

// Decide looks up the client app and decides like Client.Decide; an unknown app is
// denied.
func (p *Policy) Decide(appID string, op Operation, self bool, requested []string) Decision {
	c, _ := p.Client(appID)
	return c.Decide(op, self, requested)
}

// newClient builds a Client with its lookup sets; fields must be canonical.
func newClient(appID, name, purpose string, ops []Operation, self, others []string) *Client {
	c := &Client{
		AppID:      appID,
		Name:       name,
		Purpose:    purpose,
		Operations: ops,
		ops:        map[Operation]bool{},
		self:       map[string]bool{"id": true},
		others:     map[string]bool{"id": true},
	}
	for _, op := range ops {
		c.ops[op] = true
	}
	for _, f := range self {
		c.self[f] = true
	}
	for _, f := range others {
		c.others[f] = true
	}
	c.SelfFields = sortedSet(c.self)
	c.OtherFields = sortedSet(c.others)
	return c
}

// newPolicy indexes clients and computes the upstream field set.
func newPolicy(clients []*Client) *Policy {
	p := &Policy{clients: clients, byID: map[string]*Client{}}
	union := map[string]bool{}
	for _, f := range InternalFields {
		union[f] = true
	}
	for _, c := range clients {
		p.byID[c.AppID] = c
		for f := range c.self {
			union[f] = true
		}
		for f := range c.others {
			union[f] = true
		}
	}
	p.upstream = sortedSet(union)
	return p
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
