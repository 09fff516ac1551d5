// The Go echo server of `make bench-echo`: one goroutine per connection, each reading and
// writing back everything it reads, on GOMAXPROCS threads (the script sets 2).
// Standard library only. Binds 127.0.0.1 on a free port, prints "port=<n>" and serves until
// killed. Go's net package turns TCP_NODELAY on by default, as the other servers do by hand.
package main

import (
	"fmt"
	"net"
	"os"
)

func serve(conn net.Conn) {
	defer conn.Close()
	buffer := make([]byte, 4096)
	for {
		n, err := conn.Read(buffer)
		if err != nil {
			return
		}
		// Write returns an error unless it wrote all n bytes.
		if _, err := conn.Write(buffer[:n]); err != nil {
			return
		}
	}
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_go:", err)
		os.Exit(1)
	}
	fmt.Printf("port=%d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo_go:", err)
			os.Exit(1)
		}
		go serve(conn)
	}
}
