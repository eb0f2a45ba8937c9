package graph

import (
	"context"
	"net/url"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/graphgate/graphgate/graph/spec"
)

// Query holds the OData options of a user search or listing. Values are passed to
// Graph unchanged (e.g. Search `"displayName:ade"` with its quotes); the caller is
// responsible for allowing only fields the end user may see.
type Query struct {
	// Search is the $search expression; it makes the request use ConsistencyLevel: eventual.
	Search string
	// Filter is the $filter expression.
	Filter string
	// OrderBy is the $orderby expression, e.g. "displayName desc".
	OrderBy string
	// Top is the page size ($top); 0 leaves Graph's default (100), at most 999.
	Top int
	// Count requests @odata.count; it makes the request use ConsistencyLevel: eventual.
	Count bool
	// Fields is the $select list; empty selects Graph's default property set.
	Fields []string
	// SkipToken continues a listing: UserPage.SkipToken of the previous page, sent
	// together with the same other options.
	SkipToken string
}

// UserPage is one page of a user listing.
type UserPage struct {
	// Users holds the page's users.
	Users []User
	// Count is @odata.count when Query.Count was set.
	Count *int64
	// SkipToken fetches the next page; "" when this is the last page.
	SkipToken string
}

// maxTop is Graph's largest page size for /users.
const maxTop = 999

// User reads one user by object id or userPrincipalName with $select = fields.
func (c *Client) User(ctx context.Context, idOrUPN string, fields []string) (_ User, err error) {
	defer c.observe(opUser, time.Now(), &err)
	const op = "get user"
	if err := validateID(op, idOrUPN); err != nil {
		return nil, err
	}
	if err := validateFields(op, fields); err != nil {
		return nil, err
	}
	var out User
	err = c.call(ctx, op, directory, func(ctx context.Context) error {
		cfg := &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: fields},
		}
		b := c.sdk.Users().ByUserId(idOrUPN)
		if strings.HasPrefix(idOrUPN, "$") {
			raw, err := c.keyInParentheses(ctx, b, cfg, idOrUPN)
			if err != nil {
				return err
			}
			b = b.WithUrl(raw)
		}
		u, err := b.Get(ctx, cfg)
		if err != nil {
			return err
		}
		out, err = toUser(u, fields)
		return err
	})
	return out, err
}

// keyInParentheses rebuilds the URL of a user read to address the user as
// /users('{upn}'): Graph reads a segment after /users that starts with "$" as a system
// segment, so a UPN such as "$reception@contoso.example" must be written in parentheses,
// with a quote in it doubled. See https://learn.microsoft.com/graph/api/user-get#http-request
// and https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2635.
func (c *Client) keyInParentheses(ctx context.Context, b *users.UserItemRequestBuilder, cfg *users.UserItemRequestBuilderGetRequestConfiguration, key string) (string, error) {
	ri, err := b.ToGetRequestInformation(ctx, cfg)
	if err != nil {
		return "", err
	}
	u, err := c.sdkURL(ri)
	if err != nil {
		return "", err
	}
	raw := c.baseURL + "/users" + spec.KeyInParentheses(key)
	if u.RawQuery != "" {
		raw += "?" + u.RawQuery
	}
	return raw, nil
}

// Users lists or searches users. Search and Count add ConsistencyLevel: eventual.
func (c *Client) Users(ctx context.Context, q Query) (_ UserPage, err error) {
	defer c.observe(opUsers, time.Now(), &err)
	const op = "list users"
	if err := validateFields(op, q.Fields); err != nil {
		return UserPage{}, err
	}
	if q.Top < 0 || q.Top > maxTop {
		return UserPage{}, badRequest(op, "invalid_top")
	}
	cfg := listConfig(q)
	var page UserPage
	err = c.call(ctx, op, directory, func(ctx context.Context) error {
		builder := c.sdk.Users()
		if q.SkipToken != "" {
			raw, err := c.skipTokenURL(ctx, builder, cfg, q.SkipToken)
			if err != nil {
				return err
			}
			builder = builder.WithUrl(raw)
		}
		resp, err := builder.Get(ctx, cfg)
		if err != nil {
			return err
		}
		page.Count = resp.GetOdataCount()
		page.SkipToken = skipTokenOf(resp.GetOdataNextLink())
		for _, u := range resp.GetValue() {
			m, err := toUser(u, q.Fields)
			if err != nil {
				return err
			}
			page.Users = append(page.Users, m)
		}
		return nil
	})
	if err != nil {
		return UserPage{}, err
	}
	return page, nil
}

// listConfig turns a Query into the SDK's request configuration.
func listConfig(q Query) *users.UsersRequestBuilderGetRequestConfiguration {
	qp := &users.UsersRequestBuilderGetQueryParameters{Select: q.Fields}
	if q.Search != "" {
		qp.Search = &q.Search
	}
	if q.Filter != "" {
		qp.Filter = &q.Filter
	}
	if q.OrderBy != "" {
		qp.Orderby = []string{q.OrderBy}
	}
	if q.Top > 0 {
		top := int32(q.Top)
		qp.Top = &top
	}
	if q.Count {
		count := true
		qp.Count = &count
	}
	headers := abstractions.NewRequestHeaders()
	if q.EventuallyConsistent() {
		headers.Add("ConsistencyLevel", "eventual")
	}
	return &users.UsersRequestBuilderGetRequestConfiguration{Headers: headers, QueryParameters: qp}
}

// sdkURL is the URL the SDK would send for a request, on this client's base URL.
func (c *Client) sdkURL(ri *abstractions.RequestInformation) (*url.URL, error) {
	ri.PathParameters["baseurl"] = c.baseURL
	return ri.GetUri()
}

// skipTokenURL rebuilds the next-page URL: the SDK's query parameters have no
// $skiptoken, so the URL the SDK would send is extended with it and sent raw.
func (c *Client) skipTokenURL(ctx context.Context, b *users.UsersRequestBuilder, cfg *users.UsersRequestBuilderGetRequestConfiguration, token string) (string, error) {
	ri, err := b.ToGetRequestInformation(ctx, cfg)
	if err != nil {
		return "", err
	}
	u, err := c.sdkURL(ri)
	if err != nil {
		return "", err
	}
	raw := u.String()
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + "%24skiptoken=" + url.QueryEscape(token), nil
}

// skipTokenOf extracts $skiptoken from an @odata.nextLink.
func skipTokenOf(nextLink *string) string {
	if nextLink == nil || *nextLink == "" {
		return ""
	}
	u, err := url.Parse(*nextLink)
	if err != nil {
		return ""
	}
	for k, v := range u.Query() {
		if strings.EqualFold(k, "$skiptoken") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Manager reads a user's manager with $select = fields.
func (c *Client) Manager(ctx context.Context, id string, fields []string) (_ User, err error) {
	defer c.observe(opManager, time.Now(), &err)
	const op = "get manager"
	if err := validateID(op, id); err != nil {
		return nil, err
	}
	if err := validateFields(op, fields); err != nil {
		return nil, err
	}
	var out User
	err = c.call(ctx, op, directory, func(ctx context.Context) error {
		m, err := c.sdk.Users().ByUserId(id).Manager().Get(ctx, &users.ItemManagerRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemManagerRequestBuilderGetQueryParameters{Select: fields},
		})
		if err != nil {
			return err
		}
		out, err = toUser(m, fields)
		return err
	})
	return out, err
}

// maxDirectReports caps how many direct reports DirectReports collects.
const maxDirectReports = 1000

// DirectReports lists a user's direct reports (users only) with $select = fields,
// following @odata.nextLink up to 1000 entries.
func (c *Client) DirectReports(ctx context.Context, id string, fields []string) (_ []User, err error) {
	defer c.observe(opDirectReports, time.Now(), &err)
	const op = "list direct reports"
	if err := validateID(op, id); err != nil {
		return nil, err
	}
	if err := validateFields(op, fields); err != nil {
		return nil, err
	}
	var out []User
	err = c.call(ctx, op, directory, func(ctx context.Context) error {
		b := c.sdk.Users().ByUserId(id).DirectReports()
		cfg := &users.ItemDirectReportsRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemDirectReportsRequestBuilderGetQueryParameters{Select: fields},
		}
		for len(out) < maxDirectReports {
			resp, err := b.Get(ctx, cfg)
			if err != nil {
				return err
			}
			for _, obj := range resp.GetValue() {
				if !isUserObject(obj) || len(out) >= maxDirectReports {
					continue
				}
				m, err := toUser(obj, fields)
				if err != nil {
					return err
				}
				out = append(out, m)
			}
			next := resp.GetOdataNextLink()
			if next == nil || *next == "" {
				return nil
			}
			if !strings.HasPrefix(*next, c.baseURL+"/") {
				// An upstream anomaly, not the caller's mistake.
				return &Error{Kind: ErrUnavailable, op: op, Code: "foreign_next_link"}
			}
			b = b.WithUrl(*next)
		}
		return nil
	})
	return out, err
}

// isUserObject keeps users (and untyped directory objects) and drops org contacts,
// devices and other non-user directory objects.
func isUserObject(obj models.DirectoryObjectable) bool {
	switch obj.(type) {
	case models.Userable, *models.DirectoryObject:
		return true
	}
	return false
}
