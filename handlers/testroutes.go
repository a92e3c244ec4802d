package handlers

// buildTestRoutes adds test-only routes under the base path. It is nil in
// normal builds and set only in builds with the e2etest tag (see
// testroutes_e2etest.go), which the browser tests in e2e/ use.
var buildTestRoutes func(t routeTable)
