package pushpintest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSetKey(t *testing.T) {
	const conf = "[global]\n# rundir=commented\nrundir=/var/run/pushpin\n\n[runner]\n# list\nservices=condure,pushpin-proxy\n"
	tests := []struct {
		name, section, key, value, want string
	}{
		{
			name: "replace active line, keep comment", section: "global", key: "rundir", value: "/tmp/x",
			want: "[global]\n# rundir=commented\nrundir=/tmp/x\n\n[runner]\n# list\nservices=condure,pushpin-proxy\n",
		},
		{
			name: "add missing key under header", section: "runner", key: "http_port", value: "127.0.0.1:1",
			want: "[global]\n# rundir=commented\nrundir=/var/run/pushpin\n\n[runner]\nhttp_port=127.0.0.1:1\n# list\nservices=condure,pushpin-proxy\n",
		},
		{
			name: "key of same name in another section untouched", section: "runner", key: "rundir", value: "/r",
			want: "[global]\n# rundir=commented\nrundir=/var/run/pushpin\n\n[runner]\nrundir=/r\n# list\nservices=condure,pushpin-proxy\n",
		},
		{
			name: "add missing section", section: "handler", key: "message_rate", value: "9",
			want: "[global]\n# rundir=commented\nrundir=/var/run/pushpin\n\n[runner]\n# list\nservices=condure,pushpin-proxy\n\n[handler]\nmessage_rate=9\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, setKey(conf, tt.section, tt.key, tt.value))
		})
	}
}

func TestWithZurl(t *testing.T) {
	for in, want := range map[string]string{
		"condure,pushpin-proxy,pushpin-handler":            "condure,zurl,pushpin-proxy,pushpin-handler",
		"mongrel2,m2adapter,pushpin-proxy,pushpin-handler": "mongrel2,m2adapter,zurl,pushpin-proxy,pushpin-handler",
		"condure, zurl, pushpin-proxy":                     "condure, zurl, pushpin-proxy",
		"condure,pushpin-handler":                          "condure,pushpin-handler,zurl",
		"":                                                 "zurl",
	} {
		assert.Equal(t, want, withZurl(in), in)
	}
}

func TestTestConfig(t *testing.T) {
	const base = "[global]\ninclude={libdir}/internal.conf\nrundir=/var/run/pushpin\nport_offset=0\n" +
		"[runner]\nservices=condure,pushpin-proxy,pushpin-handler\nhttp_port=7999\nlogdir=/var/log/pushpin\n" +
		"[proxy]\nroutesfile=routes\nsig_iss=pushpin\nsig_key=changeme\n" +
		"[handler]\npush_in_spec=tcp://127.0.0.1:5560\npush_in_sub_specs=tcp://127.0.0.1:5562\npush_in_http_addr=127.0.0.1\n" +
		"push_in_http_port=5561\ncommand_spec=tcp://127.0.0.1:5563\nmessage_rate=2500\nmessage_hwm=25000\n"
	c := testConfig(base, "/tmp/run", "/tmp/log", 40001, 40002, "k3y")

	for _, kv := range []struct{ section, key, want string }{
		{"global", "include", "{libdir}/internal.conf"},
		{"global", "rundir", "/tmp/run"},
		{"runner", "services", "condure,zurl,pushpin-proxy,pushpin-handler"},
		{"runner", "http_port", "127.0.0.1:40001"},
		{"runner", "logdir", "/tmp/log"},
		{"proxy", "sig_key", "k3y"},
		{"proxy", "zurl_out_specs", "ipc://{rundir}/{ipc_prefix}zurl-in"},
		{"proxy", "zurl_out_stream_specs", "ipc://{rundir}/{ipc_prefix}zurl-in-stream"},
		{"proxy", "zurl_in_specs", "ipc://{rundir}/{ipc_prefix}zurl-out"},
		{"handler", "push_in_http_port", "40002"},
		{"handler", "push_in_spec", "ipc://{rundir}/{ipc_prefix}push-in"},
		{"handler", "push_in_sub_specs", "ipc://{rundir}/{ipc_prefix}push-in-sub"},
		{"handler", "command_spec", "ipc://{rundir}/{ipc_prefix}command"},
		{"handler", "message_rate", "1000000"},
		{"handler", "message_hwm", "10000000"},
	} {
		got, ok := getKey(c, kv.section, kv.key)
		assert.True(t, ok, "[%s] %s missing", kv.section, kv.key)
		assert.Equal(t, kv.want, got, "[%s] %s", kv.section, kv.key)
	}
	assert.NotContains(t, c, "tcp://", "fixed TCP ports would collide between parallel instances")
}

func TestRouteTarget(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "127.0.0.1:8080", want: "127.0.0.1:8080"},
		{in: "http://127.0.0.1:8080", want: "127.0.0.1:8080"},
		{in: "https://127.0.0.1:8443", wantErr: "only http"},
		{in: "127.0.0.1", wantErr: "missing port"},
	}
	for _, tt := range tests {
		got, err := routeTarget(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		assert.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}
