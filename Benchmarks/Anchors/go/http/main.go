// The Go net/http server of `make bench-http`: the standard library's server answering
// `GET /plaintext` as TechEmpower's plaintext test defines it, on GOMAXPROCS threads (the
// script sets 2). net/http adds the Date and Content-Length headers itself. Binds 127.0.0.1 on
// a free port, prints "port=<n>" and serves until killed.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

var body = []byte("Hello, World!")

func plaintext(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header["Server"] = []string{"go"}
	header["Content-Type"] = []string{"text/plain"}
	w.Write(body)
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "http_go:", err)
		os.Exit(1)
	}
	fmt.Printf("port=%d\n", listener.Addr().(*net.TCPAddr).Port)
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", plaintext)
	if err := http.Serve(listener, mux); err != nil {
		fmt.Fprintln(os.Stderr, "http_go:", err)
		os.Exit(1)
	}
}
