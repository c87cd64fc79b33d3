//go:build linux

package main

import (
	"net"
	"testing"
	"time"
)

// TestTCPAnswer: a backend's answer is its name, a newline and dots up to
// n bytes in all; an n below the name and newline gives those alone.
func TestTCPAnswer(t *testing.T) {
	const name = "10.200.11.2"
	for _, n := range []int{0, 5, len(name) + 1, len(name) + 2, 100} {
		want := name + "\n"
		for len(want) < n {
			want += "."
		}
		if got := string(tcpAnswer(name, n)); got != want {
			t.Errorf("tcpAnswer(%q, %d) = %q, want %q", name, n, got, want)
		}
	}
}

// TestReadAnswer: readAnswer returns the name of an answer of at least n
// bytes that holds a newline; a shorter answer, or one without a newline,
// is an error saying how many bytes arrived and how many were wanted.
func TestReadAnswer(t *testing.T) {
	read := func(answer string, n int) (string, error) {
		client, server := net.Pipe()
		go func() {
			server.Write([]byte(answer))
			server.Close()
		}()
		defer client.Close()
		return readAnswer(client, n)
	}
	for _, c := range []struct {
		answer string
		n      int
		name   string
		err    string
	}{
		{"b1\n....", 7, "b1", ""},
		{"b1\n.....", 7, "b1", ""},
		{"b1\n", 0, "b1", ""},
		{"b1\n...", 7, "", "answer of 6 bytes, want 7 (6 bytes read)"},
		{"b1", 0, "", "answer of 2 bytes, want 3 (2 bytes read)"},
		{"", 0, "", "answer of 0 bytes, want 1 (0 bytes read)"},
		{"backend", 3, "", "answer of 7 bytes, want 8 (7 bytes read)"},
	} {
		name, err := read(c.answer, c.n)
		if c.err == "" {
			if err != nil || name != c.name {
				t.Errorf("answer %q, n %d: %q, %v; want %q", c.answer, c.n, name, err, c.name)
			}
			continue
		}
		if err == nil || err.Error() != c.err || name != "" {
			t.Errorf("answer %q, n %d: %q, %v; want the error %q", c.answer, c.n, name, err, c.err)
		}
	}
}

// TestServeAnswers_StalledClient: an answer that a client does not read
// (bigger than what the sockets buffer) is given up after askTimeout, so
// the next client is answered and closing the listener ends the loop.
// Without the write deadline the loop stayed in that write.
func TestServeAnswers_StalledClient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	answer := tcpAnswer("b1", 64<<20)
	done := make(chan struct{})
	go func() {
		serveAnswers(l, answer)
		close(done)
	}()
	stalled, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close() // never read
	next, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	next.SetDeadline(time.Now().Add(askTimeout + 10*time.Second))
	if name, err := readAnswer(next, len(answer)); err != nil || name != "b1" {
		t.Fatalf("the client after a stalled one: %q, %v; want its answer", name, err)
	}
	l.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serveAnswers still runs 10 s after its listener closed")
	}
}
