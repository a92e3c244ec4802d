package repo

import (
	"encoding/json"
	"testing"
)

const sampleData = `{"matches": [["", "Oct 24 12:02:24", " web1 sshd[18392]: Failed password for invalid user ubuntu from 91.50.199.224 port 10481 ssh2"], "Oct 24 12:02:05 web1 sshd[18392]: Failed password for invalid user ubuntu from 91.50.199.224 port 29837 ssh2", ["", "Oct 24 12:02:01", " web1 sshd[18392]: Failed password for invalid user ubuntu from 91.50.199.224 port 53612 ssh2"], "Oct 24 12:02:13 web1 sshd[18392]: Failed password for invalid user ubuntu from 91.50.199.224 port 45322 ssh2", ["", "Oct 24 12:02:38", " web1 sshd[18392]: Failed password for invalid user ubuntu from 91.50.199.224 port 7039 ssh2"], "Oct 24 12:02:49 web1 sshd[18392]: Connection closed by authenticating user ubuntu 91.50.199.224 port 3423 [preauth]"], "failures": 6, "mlfid": " web1 sshd[18392]: ", "user": "ubuntu", "users": "['ubuntu']", "ip4": "91.50.199.224"}`

func BenchmarkDecodeCurrent(b *testing.B) {
	for b.Loop() {
		decodeBanData(sampleData)
	}
}

func BenchmarkDecodeAny(b *testing.B) {
	for b.Loop() {
		var d struct {
			Matches  []any `json:"matches"`
			Failures any   `json:"failures"`
		}
		json.Unmarshal([]byte(sampleData), &d)
	}
}

func BenchmarkFailuresOf(b *testing.B) {
	for b.Loop() {
		failuresOf(sampleData)
	}
}
