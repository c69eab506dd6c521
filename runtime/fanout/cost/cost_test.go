package cost

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// near reports whether got is want to within a relative 1e-12.
func near(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 1e-12*math.Max(math.Abs(got), math.Abs(want))
}

func TestAttempt(t *testing.T) {
	lambdaARM := Worker{Platform: AWS, MemoryMB: 2048, Arch: ArchARM}
	lambdaX86 := Worker{Platform: AWS, MemoryMB: 1024, Arch: ArchX86}
	run := Worker{Platform: CloudRun, MemoryMB: 4096, CPU: 2}
	tests := []struct {
		name   string
		worker Worker
		d      time.Duration
		want   float64 // worked out by hand from Default's prices
	}{
		{"lambda arm64 rounds up to the next ms", lambdaARM, 1500400 * time.Microsecond,
			1.501*2*0.0000133334 + 0.0000002},
		{"lambda exactly 1 ms", lambdaARM, time.Millisecond,
			0.001*2*0.0000133334 + 0.0000002},
		{"lambda 1 ms and 1 ns is 2 ms", lambdaARM, time.Millisecond + 1,
			0.002*2*0.0000133334 + 0.0000002},
		{"lambda 1 ns is 1 ms", lambdaARM, 1,
			0.001*2*0.0000133334 + 0.0000002},
		{"lambda zero is the request alone", lambdaARM, 0, 0.0000002},
		{"lambda negative is the request alone", lambdaARM, -time.Second, 0.0000002},
		{"lambda x86_64 1 GB for 10 s", lambdaX86, 10 * time.Second,
			10*1*0.0000166667 + 0.0000002},
		{"lambda no arch is x86_64", Worker{Platform: AWS, MemoryMB: 1024}, 10 * time.Second,
			10*1*0.0000166667 + 0.0000002},
		{"lambda 128 MB", Worker{Platform: AWS, MemoryMB: 128, Arch: ArchARM}, 250 * time.Millisecond,
			0.25*0.125*0.0000133334 + 0.0000002},
		{"cloud run exactly 100 ms", run, 100 * time.Millisecond,
			0.1*2*0.000024 + 0.1*4*0.0000025 + 0.0000004},
		{"cloud run 100 ms and 1 ns is 200 ms", run, 100*time.Millisecond + 1,
			0.2*2*0.000024 + 0.2*4*0.0000025 + 0.0000004},
		{"cloud run 1.5004 s is 1.6 s", run, 1500400 * time.Microsecond,
			1.6*2*0.000024 + 1.6*4*0.0000025 + 0.0000004},
		{"cloud run a minute", run, time.Minute,
			60*2*0.000024 + 60*4*0.0000025 + 0.0000004},
		{"cloud run half a vCPU 512 MiB", Worker{Platform: CloudRun, MemoryMB: 512, CPU: 0.5}, 2 * time.Second,
			2*0.5*0.000024 + 2*0.5*0.0000025 + 0.0000004},
		{"cloud run job task 1.5004 s is 1.6 s, no request fee", Worker{Platform: CloudRunJob, MemoryMB: 4096, CPU: 2}, 1500400 * time.Microsecond,
			1.6*2*0.000018 + 1.6*4*0.000002},
		{"cloud run job task zero", Worker{Platform: CloudRunJob, MemoryMB: 4096, CPU: 2}, 0, 0},
		{"local", Worker{Platform: Local}, time.Hour, 0},
		{"unknown platform", Worker{Platform: "azure", MemoryMB: 2048}, time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Model{Worker: tt.worker, Prices: Default}.Attempt(tt.d)
			if !near(got, tt.want) {
				t.Errorf("Attempt(%v) = %.15g, want %.15g", tt.d, got, tt.want)
			}
		})
	}
}

// The example in the package documentation, to the digit.
func TestAttemptDocExample(t *testing.T) {
	m := Model{Worker: Worker{Platform: AWS, MemoryMB: 2048, Arch: ArchARM}, Prices: Default}
	if got := m.Attempt(1500400 * time.Microsecond); math.Abs(got-0.0000402268668) > 1e-16 {
		t.Errorf("Attempt = %.13f, want 0.0000402268668", got)
	}
}

func TestDescribe(t *testing.T) {
	p := Default
	p.Date = "2026-12-01"
	tests := []struct {
		worker Worker
		want   string
	}{
		{Worker{Platform: AWS, MemoryMB: 2048, Arch: ArchARM}, "Lambda arm64 2048 MB at prices of 2026-12-01"},
		{Worker{Platform: AWS, MemoryMB: 128}, "Lambda x86_64 128 MB at prices of 2026-12-01"},
		{Worker{Platform: CloudRun, MemoryMB: 4096, CPU: 2}, "Cloud Run 2 vCPU 4096 MiB at prices of 2026-12-01"},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 0.25}, "Cloud Run 0.25 vCPU 512 MiB at prices of 2026-12-01"},
		{Worker{Platform: CloudRunJob, MemoryMB: 2048, CPU: 1}, "Cloud Run job tasks of 1 vCPU 2048 MiB at prices of 2026-12-01"},
		{Worker{Platform: Local}, "local workers, which cost nothing here"},
		{Worker{Platform: "azure"}, `workers on unknown platform "azure", not priced`},
	}
	for _, tt := range tests {
		if got := (Model{Worker: tt.worker, Prices: p}).Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.worker, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		worker Worker
		err    string // "" for none
	}{
		{Worker{Platform: AWS, MemoryMB: 128, Arch: ArchARM}, ""},
		{Worker{Platform: AWS, MemoryMB: 10240, Arch: ArchX86}, ""},
		{Worker{Platform: AWS, MemoryMB: 2048}, ""},
		{Worker{Platform: AWS, MemoryMB: 127, Arch: ArchARM}, "memory 127 MB is outside Lambda's 128 to 10240 MB"},
		{Worker{Platform: AWS, MemoryMB: 10241}, "memory 10241 MB"},
		{Worker{Platform: AWS, MemoryMB: 0}, "memory 0 MB"},
		{Worker{Platform: AWS, MemoryMB: 1024, Arch: "aarch64"}, `architecture "aarch64" is neither arm64 nor x86_64`},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 1}, ""},
		{Worker{Platform: CloudRun, MemoryMB: 32768, CPU: 8}, ""},
		{Worker{Platform: CloudRun, MemoryMB: 4096, CPU: 6}, ""},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 0.5}, ""},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 0}, "0 vCPU is neither a fraction of one nor 1, 2, 4, 6 or 8"},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 3}, "3 vCPU"},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: 1.5}, "1.5 vCPU"},
		{Worker{Platform: CloudRun, MemoryMB: 512, CPU: -1}, "-1 vCPU"},
		{Worker{Platform: CloudRun, MemoryMB: 511, CPU: 1}, "memory 511 MiB is outside Cloud Run's 512 MiB to 32 GiB"},
		{Worker{Platform: CloudRun, MemoryMB: 32769, CPU: 8}, "memory 32769 MiB"},
		{Worker{Platform: CloudRunJob, MemoryMB: 2048, CPU: 1}, ""},
		{Worker{Platform: CloudRunJob, MemoryMB: 2048, CPU: 3}, "3 vCPU"},
		{Worker{Platform: Local}, ""},
		{Worker{}, `unknown platform ""`},
		{Worker{Platform: "azure"}, `unknown platform "azure"`},
	}
	for _, tt := range tests {
		err := tt.worker.Check()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("Check(%+v) = %v, want nil", tt.worker, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Check(%+v) = %v, want an error with %q", tt.worker, err, tt.err)
		}
	}
}

func TestEstimate(t *testing.T) {
	tests := []struct {
		name      string
		spent     float64
		done      int
		doneCost  float64
		remaining int
		want      float64
	}{
		{"mean of the done", 1.20, 10, 1.00, 30, 1.20 + 30*0.10},
		{"nothing remaining", 4.50, 40, 4.00, 0, 4.50},
		{"none done yet: no estimate", 0.30, 0, 0, 40, 0.30},
		{"negative remaining", 1, 1, 1, -3, 1},
		{"nothing at all", 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Estimate(tt.spent, tt.done, tt.doneCost, tt.remaining); !near(got, tt.want) {
				t.Errorf("Estimate = %g, want %g", got, tt.want)
			}
		})
	}
}

func TestLoadPrices(t *testing.T) {
	tests := []struct {
		name string
		file string
		want func(*Prices) // what changes from Default; nil if an error
		err  string
	}{
		{"empty object keeps Default", `{}`, func(*Prices) {}, ""},
		{"partial override", `{"date": "2027-01-15", "source": "eu-west-1", "lambdaGBSecondARM": 0.00001, "runRequest": 0}`,
			func(p *Prices) {
				p.Date, p.Source, p.LambdaGBSecondARM, p.RunRequest = "2027-01-15", "eu-west-1", 0.00001, 0
			}, ""},
		{"null keeps Default", `{"lambdaRequest": null}`, func(*Prices) {}, ""},
		{"unknown key", `{"lambdaGBSecondX86": 0.00002, "lambdaStorage": 1}`, nil, `unknown field "lambdaStorage"`},
		{"key in another case", `{"LambdaGBSecondX86": 0.00002}`, nil, `unknown key "LambdaGBSecondX86"`},
		{"negative", `{"runGiBSecond": -0.0000025}`, nil, "runGiBSecond is -2.5e-06: a price cannot be negative"},
		{"wrong type", `{"runGiBSecond": "0.0000025"}`, nil, "cannot unmarshal string"},
		{"not an object", `[1]`, nil, "cannot unmarshal array"},
		{"two values", `{} {}`, nil, "more than one JSON value"},
		{"truncated", `{"date": "2027`, nil, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "prices.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadPrices(path)
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadPrices = %+v, %v; want an error with %q", got, err, tt.err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Default
			tt.want(&want)
			if got != want {
				t.Errorf("LoadPrices =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestLoadPricesMissingFile(t *testing.T) {
	_, err := LoadPrices(filepath.Join(t.TempDir(), "none.json"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "reading prices: ") {
		t.Errorf("LoadPrices = %v, want reading prices: ... not exist", err)
	}
}

// priceKeys is the set of Prices' JSON tags, and Default has every price.
func TestPriceKeys(t *testing.T) {
	typ := reflect.TypeFor[Prices]()
	if typ.NumField() != len(priceKeys) {
		t.Errorf("Prices has %d fields, priceKeys %d", typ.NumField(), len(priceKeys))
	}
	v := reflect.ValueOf(Default)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !priceKeys[f.Tag.Get("json")] {
			t.Errorf("field %s's key %q is not in priceKeys", f.Name, f.Tag.Get("json"))
		}
		if v.Field(i).IsZero() {
			t.Errorf("Default.%s is not set", f.Name)
		}
	}
	if err := Default.check(); err != nil {
		t.Error(err)
	}
}
