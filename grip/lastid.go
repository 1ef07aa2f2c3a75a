package grip

import (
	"net/http"
	"strings"
)

// LastIDs reads the Grip-Last headers the proxy sends when it fetches a
// hold's next link: for each channel, the id of the last item it delivered
// on that stream. The link itself is the one given with the hold and does
// not advance as items are published, so this is how the backend learns
// where the client is, e.g. to send nothing when it is up to date.
func LastIDs(h http.Header) map[string]string {
	ids := map[string]string{}
	for _, v := range h.Values("Grip-Last") {
		for _, entry := range strings.Split(v, ",") {
			channel, params, _ := strings.Cut(entry, ";")
			channel = strings.TrimSpace(channel)
			if channel == "" {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.TrimSpace(k) == "last-id" {
					ids[channel] = strings.Trim(strings.TrimSpace(val), `"`)
				}
			}
		}
	}
	return ids
}
