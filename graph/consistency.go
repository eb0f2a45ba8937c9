package graph

// EventuallyConsistent reports whether Graph answers q from its eventually consistent
// index: $search and $count need ConsistencyLevel: eventual, which makes the query an
// advanced query (https://learn.microsoft.com/graph/aad-advanced-queries). Such an
// answer may still list, as enabled, an account disabled moments ago; read the users'
// own records (User, UsersByID) where that matters.
func (q Query) EventuallyConsistent() bool {
	return q.Search != "" || q.Count
}
