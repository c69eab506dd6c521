package quota

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// quantityRE splits a Kubernetes-style quantity, as Cloud Run writes CPU
// and memory limits ("1", "1000m", "0.5", "512Mi", "4G", "1e9"), into its
// number and its suffix or exponent.
var quantityRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([a-zA-Z]*|[eE][+-]?[0-9]+)$`)

// suffixes are the multipliers of a quantity's suffixes: milli, the
// decimal SI ones and the binary ones.
var suffixes = map[string]float64{
	"":  1,
	"m": 1e-3,
	"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}

// parseQuantity returns the value of a quantity: a non-negative decimal
// number with a suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or
// an exponent (e3, E-2).
func parseQuantity(s string) (float64, error) {
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("parsing quantity %q: not a number with an optional unit such as 2, 1000m, 512Mi or 4G", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("parsing quantity %q: %w", s, err)
	}
	unit := m[2]
	mult, ok := suffixes[unit]
	if !ok {
		if unit[0] != 'e' && unit[0] != 'E' || len(unit) < 2 {
			return 0, fmt.Errorf("parsing quantity %q: unknown unit %q", s, unit)
		}
		exp, err := strconv.Atoi(unit[1:])
		if err != nil {
			return 0, fmt.Errorf("parsing quantity %q: unknown unit %q", s, unit)
		}
		mult = math.Pow10(exp)
	}
	v := n * mult
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("parsing quantity %q: out of range", s)
	}
	return v, nil
}

// ParseCPU returns the vCPUs of a CPU limit ("1", "2", "1000m", "0.5"),
// as Cloud Run and the answers give it.
func ParseCPU(s string) (float64, error) {
	v, err := parseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("parsing CPU limit: %w", err)
	}
	if v <= 0 {
		return 0, fmt.Errorf("parsing CPU limit %q: not above zero", s)
	}
	return v, nil
}

// parseMemoryMB returns the MiB of a memory limit ("512Mi", "2Gi", "4G",
// "1e9"), rounded up to a whole MiB.
func parseMemoryMB(s string) (int, error) {
	v, err := parseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("parsing memory limit: %w", err)
	}
	mb := math.Ceil(v / (1 << 20))
	if v <= 0 || mb > math.MaxInt32 {
		return 0, fmt.Errorf("parsing memory limit %q: not between 1 byte and 2^31 MiB", s)
	}
	return int(mb), nil
}
