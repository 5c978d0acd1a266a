package nxuskit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The JSON of the wire, with encoding/json's silent repairs turned into errors: it
// replaces invalid UTF-8 and lone surrogate escapes ("\ud800") with U+FFFD both when it
// writes and when it reads. A secret so altered would be stored or used changed, so an
// answer holding either is a protocol_error, and a request holding either is refused
// before it is sent (invalid_params).

// checkAnswerText reports whether line is valid UTF-8 without lone surrogate escapes.
func checkAnswerText(line []byte) error {
	if !utf8.Valid(line) {
		return newError(KindProtocolError, "the daemon sent an answer that is not valid UTF-8")
	}
	if bytes.IndexByte(line, '\\') < 0 {
		return nil // no escapes at all: the usual answer
	}
	inString, pendingHigh := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if !inString {
			inString = c == '"'
			continue
		}
		if c == '"' {
			inString = false
		}
		if c != '\\' || i+1 >= len(line) {
			if pendingHigh {
				return loneSurrogate()
			}
			continue
		}
		i++
		if line[i] != 'u' || i+4 >= len(line) {
			if pendingHigh {
				return loneSurrogate()
			}
			continue
		}
		unit, err := strconv.ParseUint(string(line[i+1:i+5]), 16, 16)
		if err != nil {
			return newError(KindProtocolError, "the daemon sent a malformed \\u escape")
		}
		i += 4
		high, low := unit >= 0xD800 && unit < 0xDC00, unit >= 0xDC00 && unit < 0xE000
		if (low && !pendingHigh) || (pendingHigh && !low) {
			return loneSurrogate()
		}
		pendingHigh = high
	}
	if pendingHigh {
		return loneSurrogate()
	}
	return nil
}

func loneSurrogate() error {
	return newError(KindProtocolError, "the daemon sent a lone surrogate (\\ud800-\\udfff) in a string")
}

// checkParams refuses a request whose text encoding/json would alter.
func checkParams(value any) error {
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return newError(KindInvalidParams, "a value is not valid UTF-8 text, so it "+
				"cannot be sent unchanged: pass it as UTF-8")
		}
	case map[string]any:
		for key, item := range v {
			if err := checkParams(key); err != nil {
				return err
			}
			if err := checkParams(item); err != nil {
				return err
			}
		}
	case []any:
		for _, item := range v {
			if err := checkParams(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeRequest is one request line: compact JSON, params always an object (never
// null), integers as integers, and no HTML escaping of <, > and &.
func encodeRequest(id uint64, method string, params map[string]any) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	if err := checkParams(params); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString(`{"jsonrpc":"2.0","id":`)
	out.WriteString(strconv.FormatUint(id, 10))
	out.WriteString(`,"method":`)
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(method); err != nil {
		return nil, newError(KindInvalidParams, "cannot encode the method name: "+err.Error())
	}
	out.Truncate(out.Len() - 1) // Encode's newline
	out.WriteString(`,"params":`)
	if err := encoder.Encode(params); err != nil {
		return nil, newError(KindInvalidParams, "cannot encode the params: "+err.Error())
	}
	out.Truncate(out.Len() - 1)
	out.WriteString("}\n")
	return out.Bytes(), nil
}

// envelope is one answer line. A member that is absent stays nil; a JSON null is "null".
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func isNull(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }

// object reads one result object field by field, strictly: a missing required field or
// a value of the wrong type is a protocol_error naming it, never a silent default.
// The first problem is kept in err; later reads then do nothing.
type object struct {
	fields map[string]json.RawMessage
	where  string
	err    error
}

func decodeObject(raw json.RawMessage, method string) *object {
	o := &object{where: "the daemon's answer to " + method}
	if err := json.Unmarshal(raw, &o.fields); err != nil || o.fields == nil {
		o.err = newError(KindProtocolError, o.where+" is not a JSON object")
	}
	return o
}

// read decodes field name into target; required says whether it must be present (a
// null then counts as present only when target can hold it: a pointer or a slice).
func (o *object) read(name string, target any, required bool) {
	if o.err != nil {
		return
	}
	raw, present := o.fields[name]
	if !present {
		if required {
			o.err = newError(KindProtocolError, fmt.Sprintf("%s lacks its %q field", o.where, name))
		}
		return
	}
	if err := json.Unmarshal(raw, target); err != nil {
		o.err = newError(KindProtocolError, fmt.Sprintf("%s has a malformed %q", o.where, name))
	}
}

// text reads a required string field (a null is malformed).
func (o *object) text(name string) string {
	var value *string
	o.read(name, &value, true)
	if o.err == nil && value == nil {
		o.err = newError(KindProtocolError, fmt.Sprintf("%s has a malformed %q", o.where, name))
	}
	if value == nil {
		return ""
	}
	return *value
}

// optionalText reads a string field that may be null or absent ("" then).
func (o *object) optionalText(name string, required bool) string {
	var value *string
	o.read(name, &value, required)
	if value == nil {
		return ""
	}
	return *value
}

func (o *object) boolean(name string) bool {
	var value *bool
	o.read(name, &value, true)
	if o.err == nil && value == nil {
		o.err = newError(KindProtocolError, fmt.Sprintf("%s has a malformed %q", o.where, name))
	}
	return value != nil && *value
}

func (o *object) number(name string, required bool) *float64 {
	var value *float64
	o.read(name, &value, required)
	return value
}

func (o *object) list(name string, required bool) []string {
	var value []string
	o.read(name, &value, required)
	return value
}
