package check

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// Messager is an input type that words its own messages. Keys are
// "field.tag", the field by its form name: "title.required",
// "url.link". A failure with no message of its type's own gets the tag's
// general one.
type Messager interface {
	Messages() map[string]string
}

// instance is the one validator. It is built on first use and never
// changed after: a validator caches what it learns of each type, and
// registering a check while another goroutine validates would race.
var instance = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	for tag, fn := range checks {
		if err := v.RegisterValidation(tag, fn); err != nil {
			panic(fmt.Sprintf("check: register %s: %v", tag, err))
		}
	}
	return v
})

// Struct checks v (a struct) against its validate tags and returns a
// message for each field that fails, at most one a field: the first of its
// tags to fail. The map is never nil, so the caller can add the checks tags
// can't express to it.
func Struct(v any) Errors {
	return errorsOf(v, instance().Struct(v))
}

// Partial is Struct for the named fields of v only (by Go name), for a form
// that changes one field of a larger input: the field keeps its one set of
// tags and messages.
func Partial(v any, fields ...string) Errors {
	return errorsOf(v, instance().StructPartial(v, fields...))
}

func errorsOf(v any, err error) Errors {
	out := Errors{}
	if err == nil {
		return out
	}
	var fails validator.ValidationErrors
	if !errors.As(err, &fails) {
		// Not a struct, or a tag that names no check: a mistake in the
		// code, not in the input.
		panic(fmt.Sprintf("check: %T: %v", v, err))
	}
	var own map[string]string
	if m, ok := v.(Messager); ok {
		own = m.Messages()
	}
	for _, f := range fails {
		if _, done := out[f.Field()]; done {
			continue
		}
		msg, ok := own[f.Field()+"."+f.Tag()]
		if !ok {
			msg = message(f)
		}
		out[f.Field()] = msg
	}
	return out
}

// message is a tag's general message, for fields whose type says nothing
// more particular.
func message(f validator.FieldError) string {
	text := f.Kind() == reflect.String
	switch f.Tag() {
	case "required":
		return "Fill this in."
	case "max":
		if text {
			return fmt.Sprintf("Keep this under %s characters.", f.Param())
		}
		return fmt.Sprintf("Enter at most %s.", f.Param())
	case "min":
		if text {
			return fmt.Sprintf("Use at least %s characters.", f.Param())
		}
		return fmt.Sprintf("Enter at least %s.", f.Param())
	case "oneof":
		return "Choose one of the options listed."
	case "eqfield":
		return "The two are not the same."
	case "utf8":
		return "This contains invalid characters."
	case "nocontrol":
		return "This contains control characters."
	case "oneline":
		return "Keep this to one line."
	case "nospace":
		return "This cannot contain spaces or invisible characters."
	case "link":
		return "Enter a full web address starting with https:// or http://."
	case "langtag":
		return "Enter a language tag such as en, fr, pt-BR or es-419."
	case "doi":
		return "Enter a DOI such as 10.1177/0896920519870577."
	case "isbnsum":
		return "Enter a 10- or 13-digit ISBN."
	case "zone":
		return "Choose a time zone such as Europe/London."
	case "year":
		return fmt.Sprintf("Enter a year between %d and %d.", MinYear, MaxYear)
	case "intrange":
		lo, hi, _ := strings.Cut(f.Param(), " ")
		return fmt.Sprintf("Enter a whole number from %s to %s.", lo, hi)
	case "emailaddr":
		return "Enter an email address like name@example.org."
	case "maxlines":
		return fmt.Sprintf("List at most %s.", f.Param())
	case "linemax":
		return fmt.Sprintf("Each line must be plain text under %s characters.", f.Param())
	}
	return "This is not valid."
}

// oneofParam splits a oneof tag's values as validator does: by spaces,
// with 'single quotes' around a value that holds one.
var oneofParam = regexp.MustCompile(`'[^']*'|\S+`)

// OneOf returns the values the oneof tag of v's field (by Go name) allows,
// in order, so a list a form offers can be that tag rather than a second
// copy of it. It panics if the field has no oneof tag.
func OneOf(v any, field string) []string {
	f, ok := reflect.TypeOf(v).FieldByName(field)
	if !ok {
		panic(fmt.Sprintf("check: %T has no field %s", v, field))
	}
	for _, tag := range strings.Split(f.Tag.Get("validate"), ",") {
		if param, ok := strings.CutPrefix(tag, "oneof="); ok {
			vals := oneofParam.FindAllString(param, -1)
			for i, s := range vals {
				vals[i] = strings.Trim(s, "'")
			}
			return vals
		}
	}
	panic(fmt.Sprintf("check: %T.%s has no oneof tag", v, field))
}
