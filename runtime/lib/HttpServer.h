// The executable's HTTP endpoint (--http ADDRESS), through cpp-httplib, which is confined to
// HttpServer.cpp. A thread of the server's own accepts connections; /healthz it answers itself,
// every other request waits for the main loop, which answers it between ticks (serve()), so that
// what a response reads (counters, state, an index's rows) is never half a tick.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace kiln::runtime::detail {

class HttpServer {
public:
  struct Request {
    std::string path;                               // e.g. /metrics, /views/customer_ltv
    std::multimap<std::string, std::string> params; // the query's
  };
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  using Handler = std::function<Response(const Request &)>;

  // Listens on ADDRESS (HOST:PORT, or :PORT for every interface; port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<HttpServer>> start(const std::string &address);
  ~HttpServer(); // stops the server; requests still waiting get 503
  const std::string &host() const;
  int port() const;

  // Whether a request waits for serve().
  bool waiting() const;
  // Answers the waiting requests with `handler` (on the calling thread).
  void serve(const Handler &handler);
  // What /healthz says: 200 "ok", or 503 with `why`.
  void setHealth(bool ok, const std::string &why = "");

private:
  HttpServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln::runtime::detail
