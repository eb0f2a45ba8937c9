package emulator

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// handleGetUser serves GET /v1.0/users/{id|userPrincipalName} (and /users/$count).
func (e *Emulator) handleGetUser(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	id := r.PathValue("id")
	if id == "$count" {
		e.handleCount(w, r, ts)
		return
	}
	sel, qerr := parseSelect(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	u := ts.lookup(id)
	var body ordered
	if u != nil {
		body = projectUser(u, sel, false)
	}
	e.mu.RUnlock()
	if u == nil {
		notFound(w, r, id)
		return
	}
	ctx := kv{"@odata.context", e.url + "/v1.0/$metadata#users" + selectSuffix(sel) + "/$entity"}
	writeJSON(w, http.StatusOK, append(ordered{ctx}, body...))
}

// notFound writes Graph's 404 for a directory object.
func notFound(w http.ResponseWriter, r *http.Request, id string) {
	graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// handleCount serves GET /v1.0/users/$count (advanced query: needs ConsistencyLevel).
func (e *Emulator) handleCount(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	if !eventual(r) {
		graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
		return
	}
	e.mu.RLock()
	n := len(ts.users)
	e.mu.RUnlock()
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	_, _ = w.Write([]byte(strconv.Itoa(n)))
}

// listQuery is a parsed GET /users query.
type listQuery struct {
	sel     []string
	top     int
	count   bool
	match   []pred
	orderBy string
	desc    bool
	offset  int
}

// parseListQuery validates the query options of GET /users.
func parseListQuery(r *http.Request) (*listQuery, *queryError) {
	q := r.URL.Query()
	lq := &listQuery{top: 100}
	var qerr *queryError
	if lq.sel, qerr = parseSelect(r); qerr != nil {
		return nil, qerr
	}
	if v, ok := option(q, "top"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return nil, badRequest("Invalid page size specified: '" + v + "'. Must be between 1 and 999 inclusive.")
		}
		lq.top = n
	}
	if v, ok := option(q, "count"); ok {
		if !eventual(r) {
			return nil, &queryError{"Request_BadRequest", "$count is not currently supported."}
		}
		lq.count = strings.EqualFold(v, "true")
	}
	advanced := eventual(r) && lq.count
	if v, ok := option(q, "search"); ok {
		if !eventual(r) {
			return nil, unsupported("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		f, qerr := parseSearch(v)
		if qerr != nil {
			return nil, qerr
		}
		lq.match = append(lq.match, f)
	}
	_, hasFilter := option(q, "filter")
	if v, ok := option(q, "filter"); ok {
		f, qerr := parseFilter(v, advanced)
		if qerr != nil {
			return nil, qerr
		}
		lq.match = append(lq.match, pred(f))
	}
	if v, ok := option(q, "orderby"); ok {
		if qerr := lq.parseOrderBy(v, hasFilter && !advanced); qerr != nil {
			return nil, qerr
		}
	}
	if v, ok := option(q, "skiptoken"); ok {
		off, ok := decodeSkipToken(v, pageKey(q))
		if !ok {
			return nil, badRequest("Invalid skip token.")
		}
		lq.offset = off
	}
	return lq, nil
}

// parseOrderBy accepts "displayName|userPrincipalName [asc|desc]".
func (lq *listQuery) parseOrderBy(v string, needsAdvanced bool) *queryError {
	if needsAdvanced {
		return unsupported("Sorting not supported for current query.")
	}
	name, dir, _ := strings.Cut(strings.TrimSpace(v), " ")
	p, ok := userProps[strings.ToLower(name)]
	switch {
	case !ok:
		return unknownProp(name)
	case p.name != "displayName" && p.name != "userPrincipalName":
		return unsupported("Sorting not supported for current query.")
	}
	switch strings.ToLower(strings.TrimSpace(dir)) {
	case "", "asc":
	case "desc":
		lq.desc = true
	default:
		return badRequest("Invalid $orderby direction '" + dir + "'.")
	}
	lq.orderBy = p.name
	return nil
}

// handleListUsers serves GET /v1.0/users.
func (e *Emulator) handleListUsers(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	lq, qerr := parseListQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	e.mu.RLock()
	matched := make([]*User, 0, min(len(ts.users), 1024))
	for _, u := range ts.users {
		if !slices.ContainsFunc(lq.match, func(f pred) bool { return !f(u) }) {
			matched = append(matched, u)
		}
	}
	if lq.orderBy != "" {
		key := userProps[strings.ToLower(lq.orderBy)].str
		sort.SliceStable(matched, func(i, j int) bool {
			a, b := strings.ToLower(key(matched[i])), strings.ToLower(key(matched[j]))
			if lq.desc {
				return a > b
			}
			return a < b
		})
	}
	start := min(lq.offset, len(matched))
	end := min(start+lq.top, len(matched))
	page := make([]ordered, 0, end-start)
	for _, u := range matched[start:end] {
		page = append(page, projectUser(u, lq.sel, false))
	}
	e.mu.RUnlock()
	body := ordered{{"@odata.context", e.url + "/v1.0/$metadata#users" + selectSuffix(lq.sel)}}
	if lq.count {
		body = append(body, kv{"@odata.count", len(matched)})
	}
	if end < len(matched) {
		body = append(body, kv{"@odata.nextLink", e.nextLink(r.URL.Query(), end)})
	}
	writeJSON(w, http.StatusOK, append(body, kv{"value", page}))
}

// pageKey fingerprints the query (without $skiptoken) a skip token belongs to.
func pageKey(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if !strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "=" + strings.Join(q[k], ",") + "&"))
	}
	return b64.EncodeToString(h.Sum(nil))[:12]
}

// skipToken is the opaque content of $skiptoken.
type skipToken struct {
	Offset int    `json:"o"`
	Key    string `json:"k"`
}

func decodeSkipToken(s, key string) (int, bool) {
	raw, err := b64.DecodeString(strings.TrimPrefix(s, "RFNwdAIAAQ"))
	if err != nil {
		return 0, false
	}
	var t skipToken
	if json.Unmarshal(raw, &t) != nil || t.Key != key || t.Offset < 0 {
		return 0, false
	}
	return t.Offset, true
}

// nextLink builds @odata.nextLink: the same query plus a $skiptoken for offset.
func (e *Emulator) nextLink(q url.Values, offset int) string {
	raw, _ := json.Marshal(skipToken{Offset: offset, Key: pageKey(q)})
	keys := make([]string, 0, len(q))
	for k := range q {
		if !strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			sb.WriteString(k + "=" + url.QueryEscape(v) + "&")
		}
	}
	return e.url + "/v1.0/users?" + sb.String() + "$skiptoken=RFNwdAIAAQ" + b64.EncodeToString(raw)
}
