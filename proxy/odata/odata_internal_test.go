package odata

import "testing"

// TestOptionNames keeps the supported options a subset of the OData options that are
// refused where not allowed, even without "$".
func TestOptionNames(t *testing.T) {
	seen := Options(0)
	for name, opt := range optionNames {
		if !isODataOption(name) {
			t.Errorf("%s is supported but not an OData option", name)
		}
		if seen&opt != 0 {
			t.Errorf("%s shares a bit", name)
		}
		seen |= opt
		if !List.allows(name) || None.allows(name) || Entity.allows(name) != (name == "select") {
			t.Errorf("option sets disagree on %s", name)
		}
	}
	if seen != List {
		t.Errorf("List = %b, options = %b", List, seen)
	}
}
