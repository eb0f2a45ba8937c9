package emulator

import (
	"net/http"
	"time"
)

// Entra ID is eventually consistent, and the emulator can be too. A change to a user
// (created, enabled or disabled, sessions revoked) is applied to the directory at once:
// a plain read (GET /users/{id}, a list without ConsistencyLevel) sees it. Two readers
// lag behind by the replication delay:
//
//   - advanced queries (ConsistencyLevel: eventual, which $search and $count need) are
//     answered from a separately indexed store, so a user disabled moments ago is still
//     listed, counted and found, as enabled: https://learn.microsoft.com/graph/aad-advanced-queries
//     and, on Entra's replication, "a successful write ... does not guarantee that an
//     immediate read will reflect that change":
//     https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/;
//   - Entra's token service: revoking sign-in sessions takes a few minutes to reach it
//     (https://learn.microsoft.com/graph/api/user-revokesigninsessions), and a disabled
//     account keeps redeeming its refresh tokens until the change gets there.
//
// The delay is off by default (unit tests see a consistent directory) and switched on
// by the demo and by the tests that prove graphgate's guarantees hold without it.

// replication remembers recent user changes so lagging readers can undo them; guarded
// by Emulator.mu.
type replication struct {
	delay   time.Duration
	changes []userChange // oldest first, none older than delay
}

// userChange is one change to a user: its state before the change, nil when the change
// created the user.
type userChange struct {
	at       time.Time
	tenantID string
	id       string
	before   *User
}

// SetReplicationDelay sets how long a user change takes to reach Graph's advanced-query
// index and Entra's token service; 0 (the default) makes both see changes at once.
// Changes made before the call are not delayed retroactively.
func (e *Emulator) SetReplicationDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.repl.delay = max(d, 0)
	e.repl.changes = nil
}

// ReplicationDelay returns the delay set by SetReplicationDelay or Options.
func (e *Emulator) ReplicationDelay() time.Duration {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.repl.delay
}

// recordChange notes that user id of ts is about to change; before is its current
// state (nil when it is being created). Callers hold e.mu for writing.
func (e *Emulator) recordChange(ts *tenantState, id string, before *User) {
	if e.repl.delay <= 0 {
		return
	}
	now := e.now()
	keep := e.repl.changes[:0]
	for _, c := range e.repl.changes {
		if now.Sub(c.at) < e.repl.delay {
			keep = append(keep, c)
		}
	}
	if before != nil {
		b := before.clone()
		before = &b
	}
	e.repl.changes = append(keep, userChange{at: now, tenantID: ts.ID, id: id, before: before})
}

// lagging returns, for the users of ts changed within the delay, the state a lagging
// reader still sees: the state before the oldest such change (nil for a user created
// since). Callers hold e.mu.
func (e *Emulator) lagging(ts *tenantState) map[string]*User {
	if e.repl.delay <= 0 {
		return nil
	}
	since := e.now().Add(-e.repl.delay)
	var old map[string]*User
	for _, c := range e.repl.changes {
		if c.tenantID != ts.ID || !c.at.After(since) {
			continue
		}
		if old == nil {
			old = map[string]*User{}
		}
		if _, seen := old[c.id]; !seen {
			old[c.id] = c.before
		}
	}
	return old
}

// asIndexed replaces in users those changed within the delay by their state before
// the oldest such change, leaving out users created since. old is lagging's result.
func asIndexed(old map[string]*User, users []*User) []*User {
	if len(old) == 0 {
		return users
	}
	out := make([]*User, 0, len(users))
	for _, u := range users {
		before, changed := old[u.ID]
		switch {
		case !changed:
			out = append(out, u)
		case before != nil:
			out = append(out, before)
		}
	}
	return out
}

// tokenServiceUser returns u as Entra's token service still sees it (nil when it does
// not know the user yet, or u is nil). Callers hold e.mu.
func (e *Emulator) tokenServiceUser(ts *tenantState, u *User) *User {
	if u == nil {
		return nil
	}
	if before, changed := e.lagging(ts)[u.ID]; changed {
		return before
	}
	return u
}

// listed returns users (ts.users, or a relationship's members such as direct reports)
// as a list request sees them: from the lagging index for an advanced query (eventual:
// ConsistencyLevel: eventual, which Graph ignores when $expand is present; see
// listQuery.eventual), else as they are. Callers hold e.mu.
func (e *Emulator) listed(eventual bool, ts *tenantState, users []*User) []*User {
	if !eventual {
		return users
	}
	return asIndexed(e.lagging(ts), users)
}

func (e *Emulator) ctlReplication(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DelayMS float64 `json:"delay_ms"`
	}
	if decode(w, r, &req) {
		e.SetReplicationDelay(time.Duration(req.DelayMS * float64(time.Millisecond)))
		w.WriteHeader(http.StatusNoContent)
	}
}
