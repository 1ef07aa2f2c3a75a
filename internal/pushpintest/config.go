package pushpintest

import (
	"fmt"
	"strings"
)

// setKey sets key=value in [section] of an INI text: it replaces the active
// (uncommented) line for key, or adds one right under the section header, or
// adds the section at the end.
func setKey(conf, section, key, value string) string {
	lines := strings.Split(conf, "\n")
	header := "[" + section + "]"
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == header {
			start = i
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(conf, "\n") + fmt.Sprintf("\n\n%s\n%s=%s\n", header, key, value)
	}
	for i := start + 1; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[") {
			break
		}
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			lines[i] = key + "=" + value
			return strings.Join(lines, "\n")
		}
	}
	lines = append(lines[:start+1], append([]string{key + "=" + value}, lines[start+1:]...)...)
	return strings.Join(lines, "\n")
}

// getKey returns the active value of key in [section], if any.
func getKey(conf, section, key string) (string, bool) {
	in := false
	for _, l := range strings.Split(conf, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			in = l == "["+section+"]"
			continue
		}
		if k, v, ok := strings.Cut(l, "="); in && ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// withZurl adds zurl to a comma-separated services list, before
// pushpin-proxy as in the order checked to work, unless it is there already.
func withZurl(services string) string {
	var out []string
	added := false
	for _, s := range strings.Split(services, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			continue
		case s == "zurl":
			return services
		case s == "pushpin-proxy" && !added:
			out = append(out, "zurl")
			added = true
		}
		out = append(out, s)
	}
	if !added {
		out = append(out, "zurl")
	}
	return strings.Join(out, ",")
}
