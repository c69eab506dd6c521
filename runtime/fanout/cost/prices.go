package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Prices is a price table: what one unit of each billed resource costs,
// in US dollars, and when and where the figures were read.
type Prices struct {
	// Date is when these prices were read, as YYYY-MM-DD.
	Date string `json:"date"`
	// Source says where they were read: the pricing pages.
	Source string `json:"source"`

	// LambdaGBSecondX86 and LambdaGBSecondARM are Lambda's price of one
	// GB-second of duration on x86_64 and on arm64.
	LambdaGBSecondX86 float64 `json:"lambdaGBSecondX86"`
	LambdaGBSecondARM float64 `json:"lambdaGBSecondARM"`
	// LambdaRequest is Lambda's price of one request (invoke).
	LambdaRequest float64 `json:"lambdaRequest"`

	// RunVCPUSecond, RunGiBSecond and RunRequest are Cloud Run's prices,
	// with request-based billing, of one vCPU-second, one GiB-second of
	// memory and one request.
	RunVCPUSecond float64 `json:"runVCPUSecond"`
	RunGiBSecond  float64 `json:"runGiBSecond"`
	RunRequest    float64 `json:"runRequest"`
	// RunJobVCPUSecond and RunJobGiBSecond are Cloud Run jobs' prices
	// of one vCPU-second and one GiB-second (no request fee).
	RunJobVCPUSecond float64 `json:"runJobVCPUSecond"`
	RunJobGiBSecond  float64 `json:"runJobGiBSecond"`

	// StepFunctionsTransition is Step Functions' price of one state
	// transition of a Standard workflow (a state entered).
	StepFunctionsTransition float64 `json:"stepFunctionsTransition"`
}

// Default is the built-in price table: list prices in AWS us-east-1
// (first duration tier) and in a Cloud Run Tier 1 region (services with
// request-based billing, and jobs), before any free tier, committed-use or savings-plan discount.
var Default = Prices{
	Date: "2026-12-01",
	Source: "https://aws.amazon.com/lambda/pricing/ (us-east-1, first tier); https://cloud.google.com/run/pricing (Tier 1: services with request-based billing, and jobs); " +
		"https://aws.amazon.com/step-functions/pricing/ (Standard workflows, us-east-1)",

	LambdaGBSecondX86: 0.0000166667,
	LambdaGBSecondARM: 0.0000133334,
	LambdaRequest:     0.20 / 1e6,

	RunVCPUSecond: 0.000024,
	RunGiBSecond:  0.0000025,
	RunRequest:    0.40 / 1e6,

	RunJobVCPUSecond: 0.000018,
	RunJobGiBSecond:  0.000002,

	StepFunctionsTransition: 0.025 / 1000,
}

// LoadPrices reads a price table from the JSON file at path (an object
// with the keys of [Prices]' JSON tags). Keys not in the file keep
// [Default]'s values; an unknown key, a value of the wrong type, a
// negative price or anything after the object is an error.
func LoadPrices(path string) (Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Prices{}, fmt.Errorf("reading prices: %w", err)
	}
	p := Default
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Prices{}, fmt.Errorf("parsing prices in %s: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Prices{}, fmt.Errorf("parsing prices in %s: more than one JSON value", path)
	}
	// encoding/json matches keys regardless of case; the file's must be
	// spelt as documented.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return Prices{}, fmt.Errorf("parsing prices in %s: %w", path, err)
	}
	for k := range keys {
		if !priceKeys[k] {
			return Prices{}, fmt.Errorf("parsing prices in %s: unknown key %q", path, k)
		}
	}
	if err := p.check(); err != nil {
		return Prices{}, fmt.Errorf("checking prices in %s: %w", path, err)
	}
	return p, nil
}

// priceKeys are the keys of a price file, as spelt in Prices' tags.
var priceKeys = map[string]bool{
	"date": true, "source": true,
	"lambdaGBSecondX86": true, "lambdaGBSecondARM": true, "lambdaRequest": true,
	"runVCPUSecond": true, "runGiBSecond": true, "runRequest": true,
	"runJobVCPUSecond": true, "runJobGiBSecond": true,
	"stepFunctionsTransition": true,
}

// check refuses a negative price.
func (p Prices) check() error {
	for _, f := range []struct {
		key   string
		price float64
	}{
		{"lambdaGBSecondX86", p.LambdaGBSecondX86},
		{"lambdaGBSecondARM", p.LambdaGBSecondARM},
		{"lambdaRequest", p.LambdaRequest},
		{"runVCPUSecond", p.RunVCPUSecond},
		{"runGiBSecond", p.RunGiBSecond},
		{"runRequest", p.RunRequest},
		{"runJobVCPUSecond", p.RunJobVCPUSecond},
		{"runJobGiBSecond", p.RunJobGiBSecond},
		{"stepFunctionsTransition", p.StepFunctionsTransition},
	} {
		if f.price < 0 {
			return fmt.Errorf("%s is %g: a price cannot be negative", f.key, f.price)
		}
	}
	return nil
}
