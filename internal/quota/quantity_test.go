package quota

import (
	"strings"
	"testing"
)

func TestParseCPU(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string // "" for none
	}{
		{"1", 1, ""},
		{"2", 2, ""},
		{"8", 8, ""},
		{"1000m", 1, ""},
		{"2000m", 2, ""},
		{"500m", 0.5, ""},
		{"0.5", 0.5, ""},
		{".25", 0.25, ""},
		{"1.", 1, ""},
		{"1e0", 1, ""},
		{"4e-1", 0.4, ""},
		{"", 0, "not a number"},
		{"0", 0, "not above zero"},
		{"0m", 0, "not above zero"},
		{"-1", 0, "not a number"},
		{"+1", 0, "not a number"},
		{"1 ", 0, "not a number"},
		{" 1", 0, "not a number"},
		{"1.5.2", 0, "not a number"},
		{"two", 0, "not a number"},
		{"1x", 0, `unknown unit "x"`},
		{"1mi", 0, `unknown unit "mi"`},
		{"1e999", 0, "out of range"},
	}
	for _, tt := range tests {
		got, err := ParseCPU(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseCPU(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseCPU(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

func TestParseMemoryMB(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string // "" for none
	}{
		{"512Mi", 512, ""},
		{"2Gi", 2048, ""},
		{"4Gi", 4096, ""},
		{"32Gi", 32768, ""},
		{"0.5Gi", 512, ""},
		{"1Ti", 1 << 20, ""},
		{"1048576Ki", 1024, ""},
		{"4G", 3815, ""},   // 4e9 bytes is 3814.7 MiB
		{"512M", 489, ""},  // 512e6 bytes is 488.3 MiB
		{"1e9", 954, ""},   // 953.7 MiB
		{"1E9", 954, ""},   // an exponent, not exa
		{"1k", 1, ""},      // a byte short of a MiB is still one
		{"1048576", 1, ""}, // bytes
		{"1048577", 2, ""},
		{"1", 1, ""},
		{"2E", 0, "not between"}, // 2 exabytes
		{"0", 0, "not between"},
		{"0Gi", 0, "not between"},
		{"", 0, "not a number"},
		{"4 Gi", 0, "not a number"},
		{"-4Gi", 0, "not a number"},
		{"4GB", 0, `unknown unit "GB"`},
		{"4gi", 0, `unknown unit "gi"`},
		{"Gi", 0, "not a number"},
	}
	for _, tt := range tests {
		got, err := parseMemoryMB(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("parseMemoryMB(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseMemoryMB(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
}

func TestUnqualified(t *testing.T) {
	tests := []struct{ in, want string }{
		{"helios-worker", "helios-worker"},
		{"helios-worker:prod", "helios-worker"},
		{"helios-worker:$LATEST", "helios-worker"},
		{"123456789012:function:helios-worker", "123456789012:function:helios-worker"},
		{"123456789012:function:helios-worker:7", "123456789012:function:helios-worker"},
		{"arn:aws:lambda:us-east-1:123456789012:function:helios-worker", "arn:aws:lambda:us-east-1:123456789012:function:helios-worker"},
		{"arn:aws:lambda:us-east-1:123456789012:function:helios-worker:prod", "arn:aws:lambda:us-east-1:123456789012:function:helios-worker"},
	}
	for _, tt := range tests {
		if got := unqualified(tt.in); got != tt.want {
			t.Errorf("unqualified(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
