package views

import "testing"

func TestKeepHost(t *testing.T) {
	for _, tc := range []struct{ path, host, want string }{
		{"/jails", "", "/jails"},
		{"/jails", "web2", "/jails?host=web2"},
		{"/history?range=7d&page=2", "web2", "/history?range=7d&page=2&host=web2"},
		{"/history?", "web2", "/history?host=web2"},
		{"/map#map-view", "web2", "/map?host=web2#map-view"},
		{"/map?range=7d#x", "web 2&x", "/map?range=7d&host=web+2%26x#x"},
		{"/jails/unban?host=local", "web2", "/jails/unban?host=local"},   // names its own host
		{"/history/192.0.2.1?host=", "web2", "/history/192.0.2.1?host="}, // every host, stated
	} {
		if got := KeepHost(tc.path, tc.host); got != tc.want {
			t.Errorf("KeepHost(%q, %q) = %q, want %q", tc.path, tc.host, got, tc.want)
		}
	}
}
