package checks

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

// aslSchema is the JSON Schema of the subset of the Amazon States Language
// that helios-scaffold's state machines use.
//
//go:embed asl.schema.json
var aslSchema []byte

const aslSchemaURL = "asl.schema.json"

var compiledASL = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(aslSchemaURL, bytes.NewReader(aslSchema)); err != nil {
		return nil, err
	}
	return c.Compile(aslSchemaURL)
})

// substitution is a ${Name} of DefinitionSubstitutions.
var substitution = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// StateMachineDefinition returns the Definition of the resource of a SAM
// template, an AWS::Serverless::StateMachine with an inline definition,
// as the JSON that Step Functions receives: every ${Name} of its
// DefinitionSubstitutions replaced by subs[Name]. subs must give a value
// for each substitution the resource declares, and the definition may use
// no other.
func StateMachineDefinition(template []byte, resource string, subs map[string]string) ([]byte, error) {
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Definition              any                  `yaml:"Definition"`
				DefinitionSubstitutions map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(template, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	r, ok := doc.Resources[resource]
	switch {
	case !ok:
		return nil, fmt.Errorf("template: no resource %s", resource)
	case r.Type != "AWS::Serverless::StateMachine":
		return nil, fmt.Errorf("template: %s is a %s, not an AWS::Serverless::StateMachine", resource, r.Type)
	case r.Properties.Definition == nil:
		return nil, fmt.Errorf("template: %s has no inline Definition", resource)
	}
	declared := slices.Sorted(maps.Keys(r.Properties.DefinitionSubstitutions))
	if given := slices.Sorted(maps.Keys(subs)); !slices.Equal(declared, given) {
		return nil, fmt.Errorf("template: %s declares the substitutions %q; values were given for %q", resource, declared, given)
	}
	var unknown []string
	def := substitute(r.Properties.Definition, func(s string) string {
		return substitution.ReplaceAllStringFunc(s, func(m string) string {
			v, ok := subs[m[2:len(m)-1]]
			if !ok {
				unknown = append(unknown, m)
				return m
			}
			return v
		})
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("template: %s's Definition uses %q, which DefinitionSubstitutions does not declare", resource, unknown)
	}
	return json.MarshalIndent(def, "", "  ")
}

// substitute returns v, as YAML decodes it, with f applied to every string
// value (not to keys, which CloudFormation does not substitute either).
func substitute(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substitute(e, f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(e, f)
		}
		return out
	}
	return v
}

// ErrStateMachine is wrapped by every error [ValidateStateMachine] returns
// about a definition.
var ErrStateMachine = errors.New("invalid state machine definition")

// ValidateStateMachine checks an Amazon States Language definition
// (JSON, substitutions made) against the schema of the subset that
// helios-scaffold's state machines use (asl.schema.json: every field
// known, every value of the right type and range), then what a schema
// cannot say: each StartAt, Next and Default names a state of its own
// States (a Map's ItemProcessor is a scope of its own), and every state
// can be reached from its StartAt.
func ValidateStateMachine(def []byte) error {
	sch, err := compiledASL()
	if err != nil {
		return fmt.Errorf("compiling %s: %w", aslSchemaURL, err)
	}
	dec := json.NewDecoder(bytes.NewReader(def))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%w: %w", ErrStateMachine, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%w: %w", ErrStateMachine, err)
	}
	var m scope
	if err := json.Unmarshal(def, &m); err != nil {
		return fmt.Errorf("%w: %w", ErrStateMachine, err)
	}
	if errs := m.check("/"); len(errs) > 0 {
		return fmt.Errorf("%w:\n%s", ErrStateMachine, strings.Join(errs, "\n"))
	}
	return nil
}

// scope is a StartAt and its States: the machine, or a Map's ItemProcessor.
type scope struct {
	StartAt string           `json:"StartAt"`
	States  map[string]state `json:"States"`
}

type state struct {
	Type    string `json:"Type"`
	Next    string `json:"Next"`
	Default string `json:"Default"`
	Choices []struct {
		Next string `json:"Next"`
	} `json:"Choices"`
	Catch []struct {
		Next string `json:"Next"`
	} `json:"Catch"`
	ItemProcessor *scope `json:"ItemProcessor"`
}

// targets are the states that s may go to.
func (s state) targets() []string {
	var out []string
	for _, t := range []string{s.Next, s.Default} {
		if t != "" {
			out = append(out, t)
		}
	}
	for _, c := range s.Choices {
		out = append(out, c.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

// check reports, for the scope at where and the scopes inside it, every
// name that is not a state of the scope and every state that cannot be
// reached.
func (sc scope) check(where string) []string {
	var errs []string
	reached := map[string]bool{}
	todo := []string{sc.StartAt}
	if _, ok := sc.States[sc.StartAt]; !ok {
		errs = append(errs, fmt.Sprintf("%sStartAt %q is not a state of its States", where, sc.StartAt))
	}
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		s, ok := sc.States[name]
		if !ok || reached[name] {
			continue
		}
		reached[name] = true
		for _, t := range s.targets() {
			if _, ok := sc.States[t]; !ok {
				errs = append(errs, fmt.Sprintf("%sStates/%s goes to %q, which is not a state of its States", where, name, t))
			}
			todo = append(todo, t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sc.States)) {
		s := sc.States[name]
		if !reached[name] {
			errs = append(errs, fmt.Sprintf("%sStates/%s cannot be reached from StartAt %q", where, name, sc.StartAt))
		}
		if s.ItemProcessor != nil {
			errs = append(errs, s.ItemProcessor.check(where+"States/"+name+"/ItemProcessor/")...)
		}
	}
	return errs
}

// StateMachineCFNLint runs cfn-lint's own check of state machine
// definitions (rule E3601, from the schema AWS maintains in cfn-lint) on
// def, an Amazon States Language definition in JSON with its
// substitutions made. cfn-lint skips the definitions of SAM's
// AWS::Serverless::StateMachine, whose Definition the SAM transform turns
// into a string, so [CFNLint] on template.yaml never looks at it: this
// wraps def in a CloudFormation AWS::StepFunctions::StateMachine of its
// own. It returns [ErrNoCFNLint] as [CFNLint] does.
func StateMachineCFNLint(ctx context.Context, def []byte) error {
	if !json.Valid(def) {
		return fmt.Errorf("%w: not JSON", ErrStateMachine)
	}
	tmpl, err := json.MarshalIndent(map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Resources": map[string]any{
			"StateMachine": map[string]any{
				"Type": "AWS::StepFunctions::StateMachine",
				"Properties": map[string]any{
					"RoleArn":    "arn:aws:iam::123456789012:role/state-machine",
					"Definition": json.RawMessage(def),
				},
			},
		},
	}, "", "  ")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "helios-statemachine-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "statemachine.json")
	if err := os.WriteFile(file, tmpl, 0o644); err != nil {
		return err
	}
	return CFNLint(ctx, file)
}
