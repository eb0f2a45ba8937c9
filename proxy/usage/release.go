package usage

// DefaultK is the default release threshold: the fewest distinct users a released
// figure may describe.
const DefaultK = 5

// Released is the outcome of the release rule for one tenant's data.
type Released struct {
	Cells []Cell       // cells of released client-app days
	Users []DailyUsers // released distinct-user counts (per client app, and tenant-wide)
}

// Release applies graphgate's release rule to one tenant's aggregates.
//
// The k-test is made per UTC day × client app on the distinct-user estimate: a client app
// used by fewer than k distinct people on a day is withheld for that day as a whole —
// from every breakdown (operation, status class, cache, hour), from latency and cache
// figures, and from every total, which are computed from released cells only. Nothing
// derived from a withheld app-day is ever shown, so no subtraction of released figures can
// recover it. A client-app day without a distinct-user estimate counts as 0 users.
//
// The tenant-wide distinct-user count of a day (AllClients) is released only when it
// reaches k and no client app with traffic that day was withheld; otherwise the
// difference between it and the per-app counts could hint at the withheld users.
func Release(cells []Cell, users []DailyUsers, k int) Released {
	if k < 1 {
		k = DefaultK
	}
	type appDay struct {
		day    int64
		client string
	}
	count := map[appDay]int64{}
	for _, u := range users {
		count[appDay{dayOf(u.Day).Unix(), u.ClientApp}] = u.Users
	}
	released := func(day int64, client string) bool { return count[appDay{day, client}] >= int64(k) }

	var out Released
	withheld := map[int64]bool{} // days with a withheld client app
	apps := map[appDay]bool{}
	for _, c := range cells {
		d := dayOf(c.Hour).Unix()
		if released(d, c.ClientApp) {
			out.Cells = append(out.Cells, c)
			apps[appDay{d, c.ClientApp}] = true
		} else {
			withheld[d] = true
		}
	}
	for _, u := range users {
		d := dayOf(u.Day).Unix()
		if u.Users < int64(k) {
			continue
		}
		if u.ClientApp == AllClients {
			if !withheld[d] {
				out.Users = append(out.Users, u)
			}
			continue
		}
		if released(d, u.ClientApp) {
			out.Users = append(out.Users, u)
		}
	}
	return out
}
