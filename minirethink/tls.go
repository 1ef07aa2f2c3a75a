package minirethink

import (
	"crypto/tls"
	"fmt"
)

// WithTLS makes the server speak TLS on its port, as RethinkDB does with
// --driver-tls-key and --driver-tls-cert: the TLS handshake comes first,
// then RethinkDB's own. Drivers connect with their TLS option
// (rethinkdb-go's ConnectOpts.TLSConfig).
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) { o.tls = cfg }
}

// LoadTLS reads a PEM certificate (with its chain) and key into a server
// TLS configuration for WithTLS.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("minirethink: TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
