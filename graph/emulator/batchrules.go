package emulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/graphgate/graphgate/graph/spec"
)

// Graph's JSON batching rules, checked before any item runs. A batch that breaks one
// is refused as a whole with 400 BadRequest and nothing runs: "If the batch request
// itself is malformed, the status code is 400"
// (https://learn.microsoft.com/en-us/graph/json-batching#processing-the-json-batch-response).
// The messages are Graph's, as reported in the public issues cited next to each.

// errBatchFormat is Graph's answer to a batch it cannot read, and to an item whose url
// is absolute ("If you attempt to provide an absolute URL … the Graph API responds with
// a 400 Bad Request … Invalid batch payload format.",
// microsoftgraph/microsoft-graph-docs-contrib#8576, microsoftgraph/msgraph-sdk-javascript#1451).
const errBatchFormat = "Invalid batch payload format."

// validateBatch checks the batch against Graph's rules; it returns Graph's message for
// the first rule broken, or "".
func validateBatch(items []batchItem) string {
	switch {
	case len(items) == 0:
		return errBatchFormat
	case len(items) > spec.MaxBatchRequests:
		// "JSON batch requests are currently limited to 20 individual requests"
		// (https://learn.microsoft.com/en-us/graph/json-batching#batch-size-limitations);
		// Graph's exact message is not documented.
		return "Number of batch request steps exceeds the maximum of " + strconv.Itoa(spec.MaxBatchRequests) + "."
	}
	index := make(map[string]int, len(items)) // lower-case id => position
	for i, it := range items {
		if msg := checkItem(it); msg != "" {
			return msg
		}
		// "id … Not case-sensitive. Must be unique in the batch, otherwise, the batch
		// request fails with a 400 error code" (json-batching); the message is Graph's
		// (microsoftgraph/msgraph-sdk-java#559, microsoftgraph/msgraph-sdk-javascript#433).
		key := strings.ToLower(it.ID)
		if _, dup := index[key]; dup {
			return "Request Id " + it.ID + " has to be unique in a batch."
		}
		index[key] = i
	}
	return checkDependencies(items, index)
}

// checkItem checks one item's shape.
func checkItem(it batchItem) string {
	switch {
	case it.ID == "" || it.Method == "" || it.URL == "":
		return errBatchFormat // id, method and url are "Required" (json-batching)
	case isAbsoluteURL(it.URL):
		// "url: Required. The relative resource URL for the individual request" (json-batching).
		return errBatchFormat
	case needsContentType(it):
		// "When a body is included with the request, the headers object must contain a
		// value for Content-Type"; a write without a body is refused too: "you must
		// still specify the headers and body parameters where only body can be an
		// empty object" (json-batching). The whole batch fails ("It is a batch-level
		// validation failure, so the outer call 400s", Softeria/ms-365-mcp-server#683);
		// the message is Graph's (microsoftgraph/msgraph-sdk-dotnet#2628).
		return "Write request id : " + it.ID + " does not contain Content-Type header or body."
	}
	return ""
}

// isAbsoluteURL reports whether a batch item's url names a scheme or a host (its query,
// which may quote a URL in a $filter, does not count).
func isAbsoluteURL(raw string) bool {
	path, _, _ := strings.Cut(strings.TrimSpace(raw), "?")
	u, err := url.Parse(path)
	return strings.HasPrefix(path, "//") || strings.Contains(path, "://") || (err == nil && u.IsAbs())
}

// needsContentType reports whether an item breaks the body/Content-Type rule.
func needsContentType(it batchItem) bool {
	write := false
	switch strings.ToUpper(it.Method) {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		write = true
	}
	return (it.hasBody() || write) && (!it.hasBody() || it.header("Content-Type") == "")
}

// checkDependencies enforces Graph's sequencing rules. "Individual requests can depend
// on other individual requests. Currently, requests can only depend on a single other
// request, and must follow one of these three patterns: 1. Parallel - no individual
// request states a dependency in the dependsOn property. 2. Serial - all individual
// requests depend on the previous individual request. 3. Same - all individual requests
// that state a dependency in the dependsOn property, state the same dependency"
// (https://developer.microsoft.com/en-us/graph/known-issues/?search=JSON%20batching,
// "Simplified dependencies"); "Batch should be either fully sequential or fully
// parallel" (https://learn.microsoft.com/en-us/graph/json-batching#sequencing-requests-with-the-dependson-property),
// which Graph answers for mixed batches (microsoftgraph/microsoft-graph-docs#16280). A
// dependency must name an earlier request ("the API expects that the dependency appears
// earlier in the array of requests. Microsoft Graph fails with 'Invalid dependency for
// request Id...'", microsoftgraph/msgraph-sdk-dotnet-core#891).
func checkDependencies(items []batchItem, index map[string]int) string {
	sequential := false
	for i, it := range items {
		if len(it.DependsOn) == 0 {
			continue
		}
		sequential = true
		j, ok := index[strings.ToLower(it.DependsOn[0])]
		if len(it.DependsOn) > 1 || !ok || j >= i {
			return "Invalid dependency for request Id " + it.ID + "."
		}
	}
	if !sequential || fullySequential(items, index) {
		return ""
	}
	return "Batch should be either fully sequential or fully parallel."
}

// fullySequential reports whether every request but the first depends on its
// predecessor (Serial) or all of them on the same request (Same).
func fullySequential(items []batchItem, index map[string]int) bool {
	serial, same := true, true
	for i := 1; i < len(items); i++ {
		if len(items[i].DependsOn) != 1 {
			return false
		}
		dep := index[strings.ToLower(items[i].DependsOn[0])]
		serial = serial && dep == i-1
		same = same && strings.EqualFold(items[i].DependsOn[0], items[1].DependsOn[0])
	}
	return serial || same
}

// hasBody reports whether the item carries a body.
func (it batchItem) hasBody() bool {
	return len(it.Body) > 0 && string(it.Body) != "null"
}

// header looks an item header up case-insensitively.
func (it batchItem) header(name string) string {
	for k, v := range it.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
