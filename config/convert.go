package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// convert turns a value from YAML, the environment or a flag into typ
// strictly: no silent truncation of 12.5 to 12, no "abc" read as 0.
func convert(raw any, typ reflect.Type) (reflect.Value, error) {
	switch typ.Kind() {
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Float64 {
			l, err := toNumbers(raw)
			return reflect.ValueOf(l), err
		}
		l, err := toList(raw)
		return reflect.ValueOf(l), err
	case reflect.Int, reflect.Int64:
		n, err := toInt(raw)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(n).Convert(typ), nil
	case reflect.Float64:
		f, err := toFloat(raw)
		return reflect.ValueOf(f), err
	case reflect.Bool:
		b, err := toBool(raw)
		return reflect.ValueOf(b), err
	case reflect.String:
		s, err := toString(raw)
		return reflect.ValueOf(s), err
	}
	return reflect.Value{}, fmt.Errorf("unsupported field type %v", typ)
}

func toInt(raw any) (int64, error) {
	switch x := raw.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d does not fit a 64-bit integer", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) >= 1<<62 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%s is not an integer", describe(raw))
}

func toFloat(raw any) (float64, error) {
	var f float64
	switch x := raw.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
	default:
		return 0, fmt.Errorf("%s is not a number", describe(raw))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v is not a finite number", f)
	}
	return f, nil
}

func toBool(raw any) (bool, error) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("%q is not a boolean (true or false)", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("%s is not a boolean (true or false)", describe(raw))
}

func toString(raw any) (string, error) {
	switch x := raw.(type) {
	case string:
		return x, nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("%s is not a string", describe(raw))
}

// toList accepts a YAML list of strings or a comma-separated string.
func toList(raw any) ([]string, error) {
	switch x := raw.(type) {
	case string:
		return ParseBackends(x), nil
	case []string:
		return ParseBackends(strings.Join(x, ",")), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok || strings.Contains(s, ",") {
				return nil, fmt.Errorf("list entry %d is %s, want a name such as opencl or vulkan:0", i, describe(e))
			}
			parts[i] = s
		}
		return ParseBackends(strings.Join(parts, ",")), nil
	}
	return nil, fmt.Errorf("%s is not a list or comma-separated string", describe(raw))
}

func describe(v any) string {
	if v == nil {
		return "an empty value"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
