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
		if List.allows(name) == (name == "expand" || name == "skip") || None.allows(name) || Entity.allows(name) != (name == "select") ||
			User.allows(name) != (name == "select" || name == "expand" || name == "count") {
			t.Errorf("option sets disagree on %s", name)
		}
		if People.allows(name) != (name == "select" || name == "search" || name == "filter" || name == "top" || name == "skip") {
			t.Errorf("People disagrees on %s", name)
		}
	}
	if seen != List|User|People {
		t.Errorf("List|User|People = %b, options = %b", List|User|People, seen)
	}
}
