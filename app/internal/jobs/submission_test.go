package jobs

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestDecodeSubmission(t *testing.T) {
	r := DefaultRegistry()
	ok := []struct {
		body, kind, input string
	}{
		{`{"kind":"primes","input":{"start":1,"end":10}}`, "primes", `{"start":1,"end":10}`},
		{` {"input":{"end":10,"start":0},"kind":"primes"} `, "primes", `{"start":0,"end":10}`},
		{`{"kind":"stats","input":{"values":[1.5,-2,3e2]}}`, "stats", `{"values":[1.5,-2,300]}`},
		{`{"kind":"sleep","input":{"seconds":30}}`, "sleep", `{"seconds":30}`},
		{`{"kind":"sleep","input":{"seconds":0}}`, "sleep", `{"seconds":0}`},
	}
	for _, c := range ok {
		sub, err := r.DecodeSubmission([]byte(c.body))
		if err != nil || sub.Kind != c.kind || string(sub.Input) != c.input {
			t.Errorf("DecodeSubmission(%s) = %+v (%s), %v; want %s %s", c.body, sub, sub.Input, err, c.kind, c.input)
		}
	}

	many := `{"kind":"stats","input":{"values":[` + strings.Repeat("1,", MaxStatsValues) + `1]}}`
	bad := []struct {
		body, field string
		code        int
		says        string
	}{
		{``, "", 400, "empty"},
		{`nope`, "", 400, "not valid JSON"},
		{`[]`, "", 400, "must be a JSON object"},
		{`{"kind":"primes","input":{"start":1,"end":2}} {}`, "", 400, "after the JSON object"},
		{`{"input":{}}`, "kind", 400, "primes, sleep, stats"},
		{`{"kind":7,"input":{}}`, "kind", 400, "must be a string"},
		{`{"kind":"fft","input":{}}`, "kind", 400, `unknown kind "fft"; known kinds: primes, sleep, stats`},
		{`{"kind":"primes","input":{"start":1,"end":2},"extra":1}`, "extra", 400, "not a known field"},
		{`{"kind":"primes"}`, "input", 400, "is required"},
		{`{"kind":"primes","input":[1,2]}`, "input", 400, "must be a JSON object"},
		{`{"kind":"primes","input":{"start":1}}`, "input.end", 400, "is required"},
		{`{"kind":"primes","input":{"end":1}}`, "input.start", 400, "is required"},
		{`{"kind":"primes","input":{"start":1.5,"end":3}}`, "input.start", 400, "must be an integer"},
		{`{"kind":"primes","input":{"start":"1","end":3}}`, "input.start", 400, "must be an integer"},
		{`{"kind":"primes","input":{"start":-1,"end":3}}`, "input.start", 400, "0 or more"},
		{`{"kind":"primes","input":{"start":5,"end":3}}`, "input.end", 400, "at least start"},
		{`{"kind":"primes","input":{"start":0,"end":10000000}}`, "input.end", 400, "split it"},
		{`{"kind":"primes","input":{"start":0,"end":1000000000001}}`, "input.end", 400, "at most"},
		{`{"kind":"primes","input":{"start":1,"end":2,"step":1}}`, "input.step", 400, "not a known field"},
		{`{"kind":"stats","input":{}}`, "input.values", 400, "is required"},
		{`{"kind":"stats","input":{"values":[]}}`, "input.values", 400, "at least one"},
		{`{"kind":"stats","input":{"values":[1,"2"]}}`, "input.values", 400, "number"},
		{`{"kind":"stats","input":{"values":[1e200]}}`, "input.values", 400, "out of range"},
		{many, "input.values", 413, "at most 10000"},
		{`{"kind":"sleep","input":{"seconds":31}}`, "input.seconds", 400, "between 0 and 30"},
		{`{"kind":"sleep","input":{"seconds":-1}}`, "input.seconds", 400, "between 0 and 30"},
		{`{"kind":"sleep","input":{}}`, "input.seconds", 400, "is required"},
	}
	for _, c := range bad {
		_, err := r.DecodeSubmission([]byte(c.body))
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("DecodeSubmission(%.60s) = %v, want an InputError", c.body, err)
			continue
		}
		if ie.Field != c.field || ie.HTTPStatus != c.code || !strings.Contains(ie.Message, c.says) {
			t.Errorf("DecodeSubmission(%.60s) = field %q, %d, %q; want field %q, %d, containing %q",
				c.body, ie.Field, ie.HTTPStatus, ie.Message, c.field, c.code, c.says)
		}
		if ie.HTTPStatus != http.StatusBadRequest && ie.HTTPStatus != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d is neither 400 nor 413", ie.HTTPStatus)
		}
	}
}

func TestDescribe(t *testing.T) {
	for in, want := range map[string]string{
		"int64": "an integer", "*int64": "an integer", "float64": "a number", "*float64": "a number",
		"[]float64": "an array of numbers", "[]int64": "an array of integers", "string": "a string", "*string": "a string",
		"json.RawMessage": "a JSON object", "struct { Kind *string }": "a JSON object",
	} {
		if got := describe(in); got != want {
			t.Errorf("describe(%q) = %q, want %q", in, got, want)
		}
	}
}
