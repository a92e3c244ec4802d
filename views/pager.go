package views

import (
	"net/url"
	"strconv"
)

// Pager describes one page of a longer list and how to link to other pages.
type Pager struct {
	Page   int
	Size   int
	Total  int64
	Sizes  []int      // page sizes offered; empty hides the chooser
	Path   string     // in-app path of the list, without base path
	Query  url.Values // current filters, without page and size
	Target string     // CSS selector of the element htmx replaces
}

// Pages is the number of pages (at least 1).
func (p Pager) Pages() int {
	if p.Size <= 0 || p.Total <= 0 {
		return 1
	}
	return int((p.Total + int64(p.Size) - 1) / int64(p.Size))
}

// First and Last are the 1-based positions of the rows on this page.
func (p Pager) First() int64 {
	if p.Total == 0 {
		return 0
	}
	return int64((p.Page-1)*p.Size) + 1
}

// Last is the position of the last row on this page.
func (p Pager) Last() int64 {
	last := int64(p.Page * p.Size)
	if last > p.Total {
		return p.Total
	}
	return last
}

// link is the in-app URL of page n at size s.
func (p Pager) link(n, s int) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if s != p.defaultSize() {
		q.Set("size", strconv.Itoa(s))
	}
	return withQuery(p.Path, q)
}

func (p Pager) defaultSize() int {
	if len(p.Sizes) > 0 {
		return p.Sizes[0]
	}
	return p.Size
}
