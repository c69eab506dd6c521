package msg

import (
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	long := strings.Repeat("a", MaxKey+6)
	for _, tc := range []struct{ in, want string }{
		{"logo.png", `"logo.png"`},
		{"a\nb", `"a\nb"`},
		{long, `"` + long[:MaxKey] + `"…`},
	} {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
