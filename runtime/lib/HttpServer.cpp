#include "HttpServer.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kiln::runtime::detail {

namespace {

// How long a request waits for the main loop before it is answered 503: a tick that takes
// longer, or a main loop blocked on its input, should not hold connections forever.
constexpr auto kWaitLimit = std::chrono::seconds(30);

} // namespace

struct HttpServer::Impl {
  // A request handed to the main loop, and its answer once given.
  struct Pending {
    Request request;
    Response response;
    bool answered = false;
  };

  // Runs on the server's threads: queues the request and waits for serve() to answer it.
  void forward(const httplib::Request &in, httplib::Response &out) {
    auto pending = std::make_shared<Pending>();
    pending->request.path = in.path;
    pending->request.params.insert(in.params.begin(), in.params.end());
    std::unique_lock<std::mutex> lock(mutex);
    if (stopping) {
      out.status = 503;
      out.set_content("stopping\n", "text/plain");
      return;
    }
    queue.push_back(pending);
    has_waiting = true;
    bool answered =
        answered_cv.wait_for(lock, kWaitLimit, [&] { return pending->answered || stopping; });
    if (!answered || !pending->answered) {
      out.status = 503;
      out.set_content("the program is busy (a tick or its input holds the main loop); try again\n",
                      "text/plain");
      return;
    }
    out.status = pending->response.status;
    out.set_content(pending->response.body, pending->response.content_type.c_str());
  }

  httplib::Server server;
  std::thread thread;
  std::string host;
  int port = 0;

  std::mutex mutex;
  std::condition_variable answered_cv;
  std::deque<std::shared_ptr<Pending>> queue; // waiting for serve()
  std::atomic<bool> has_waiting{false};
  bool stopping = false;
  bool healthy = true;
  std::string health_why;
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->answered_cv.notify_all();
  impl_->server.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

const std::string &HttpServer::host() const { return impl_->host; }
int HttpServer::port() const { return impl_->port; }
bool HttpServer::waiting() const { return impl_->has_waiting.load(std::memory_order_relaxed); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::start(const std::string &address) {
  size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port < 0 ||
      port > 65535)
    return absl::InvalidArgumentError(
        absl::StrCat("--http takes HOST:PORT or :PORT (0 picks a free port), not ", address));
  std::unique_ptr<HttpServer> server(new HttpServer());
  Impl &impl = *server->impl_;
  impl.host = colon == 0 ? "0.0.0.0" : address.substr(0, colon);
  impl.server.Get("/healthz", [&impl](const httplib::Request &, httplib::Response &out) {
    std::lock_guard<std::mutex> lock(impl.mutex);
    out.status = impl.healthy ? 200 : 503;
    out.set_content(impl.healthy ? std::string("ok\n") : impl.health_why + "\n", "text/plain");
  });
  auto forward = [&impl](const httplib::Request &in, httplib::Response &out) {
    impl.forward(in, out);
  };
  impl.server.Get("/metrics", forward);
  impl.server.Get(R"(/views/.*)", forward);
  impl.server.Get("/views", forward);
  if (port == 0) {
    impl.port = impl.server.bind_to_any_port(impl.host);
    if (impl.port < 0)
      return absl::UnavailableError(absl::StrCat("cannot listen on ", impl.host, ":0"));
  } else {
    if (!impl.server.bind_to_port(impl.host, port))
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", address, " (in use, or not an address of this host?)"));
    impl.port = port;
  }
  impl.thread = std::thread([&impl] { impl.server.listen_after_bind(); });
  // stop() does nothing until the server runs: a server destroyed at once would never stop.
  for (int i = 0; i < 5000 && !impl.server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return server;
}

void HttpServer::serve(const Handler &handler) {
  Impl &impl = *impl_;
  std::deque<std::shared_ptr<Impl::Pending>> batch;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    batch.swap(impl.queue);
    impl.has_waiting = false;
  }
  if (batch.empty())
    return;
  for (const std::shared_ptr<Impl::Pending> &pending : batch) {
    Response response = handler(pending->request);
    std::lock_guard<std::mutex> lock(impl.mutex);
    pending->response = std::move(response);
    pending->answered = true;
  }
  impl.answered_cv.notify_all();
}

void HttpServer::setHealth(bool ok, const std::string &why) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->healthy = ok;
  impl_->health_why = why;
}

} // namespace kiln::runtime::detail
