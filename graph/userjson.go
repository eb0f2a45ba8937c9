package graph

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
)

// defaultFields is Graph's default user property set (no $select).
var defaultFields = []string{
	"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}

// maxFields bounds a $select list.
const maxFields = 64

// toUser converts an SDK model to a User. It writes the model with a plain kiota
// JSON writer — not serialization.SerializeToJson: the default writer registry is
// wrapped by the backing-store proxy once a GraphServiceClient exists, and that proxy
// writes only *changed* values, i.e. nothing for a freshly parsed model.
func toUser(p serialization.Parsable, fields []string) (User, error) {
	if p == nil {
		return nil, errors.New("empty user object")
	}
	w := jsonserialization.NewJsonSerializationWriter()
	defer w.Close()
	if err := w.WriteObjectValue("", p); err != nil {
		return nil, err
	}
	b, err := w.GetSerializedContent()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return project(m, fields), nil
}

// project keeps the requested fields (Graph's default set when none were requested)
// with Graph's canonical spelling, adds nil for requested fields without a value,
// and drops @odata.* annotations and anything not requested.
func project(m map[string]any, fields []string) User {
	if len(fields) == 0 {
		fields = defaultFields
	}
	canon := make(map[string]string, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "@") && !strings.Contains(k, "@odata.") {
			canon[strings.ToLower(k)] = k
		}
	}
	out := make(User, len(fields))
	for _, f := range fields {
		if k, ok := canon[strings.ToLower(f)]; ok {
			out[k] = m[k]
		} else {
			out[f] = nil
		}
	}
	return out
}

// validateFields accepts property names only: letters, digits and '_' (a comma or
// slash would smuggle other options into $select).
func validateFields(op string, fields []string) error {
	if len(fields) > maxFields {
		return badRequest(op, "too_many_fields")
	}
	for _, f := range fields {
		if f == "" || len(f) > 64 {
			return badRequest(op, "invalid_field")
		}
		for _, r := range f {
			if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
				return badRequest(op, "invalid_field")
			}
		}
	}
	return nil
}

// validateID rejects empty ids and ids that could escape the /users/{id} segment. "#"
// and "?" are allowed: a guest's UPN holds "#EXT#", and the SDK percent-encodes both
// like any other reserved character.
func validateID(op, id string) error {
	if id == "" || len(id) > 256 || strings.ContainsAny(id, "/\\\x00\r\n") || id == "." || id == ".." {
		return badRequest(op, "invalid_id")
	}
	return nil
}
