// hilo from C++11: an RAII wrapper that owns a thread handle and releases it
// in its destructor, join with a timeout, names, and errors as exceptions.
//
// Releasing a handle does not stop or detach-and-forget a running thread: a
// released non-daemon thread still runs to its end and the process still
// waits for it at exit, as Python's would.
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include "hilo.h"

namespace {

class Thread {
  public:
    // A thread that has not started; nullptr or "" gives "Thread-N".
    Thread(hilo_fn target, void *arg, const char *name = nullptr) {
        check(hilo_create(target, arg, name, &handle_));
    }
    ~Thread() {
        if (handle_ != 0) {
            hilo_release(handle_);
        }
    }
    Thread(const Thread &) = delete;
    Thread &operator=(const Thread &) = delete;
    Thread(Thread &&other) noexcept : handle_(other.handle_) { other.handle_ = 0; }
    Thread &operator=(Thread &&other) noexcept {
        if (this != &other) {
            if (handle_ != 0) {
                hilo_release(handle_);
            }
            handle_ = other.handle_;
            other.handle_ = 0;
        }
        return *this;
    }

    void start() { check(hilo_start(handle_)); }

    // True once the thread has finished; false if it is still running after
    // `timeout` seconds (negative: wait forever).
    bool join(double timeout = HILO_FOREVER) {
        int status = hilo_join(handle_, timeout, nullptr);
        if (status == HILO_ETIMEDOUT) {
            return false;
        }
        check(status);
        return true;
    }

    bool is_alive() const { return check(hilo_is_alive(handle_)) == 1; }
    bool daemon() const { return check(hilo_is_daemon(handle_)) == 1; }
    void set_daemon(bool daemon) { check(hilo_set_daemon(handle_, daemon)); }

    std::string name() const {
        int length = check(hilo_get_name(handle_, nullptr, 0));
        std::string name(static_cast<size_t>(length) + 1, '\0');
        check(hilo_get_name(handle_, &name[0], name.size()));
        name.resize(static_cast<size_t>(length));
        return name;
    }
    void set_name(const std::string &name) { check(hilo_set_name(handle_, name.c_str())); }

  private:
    static int check(int status) {
        if (status < 0) {
            throw std::runtime_error(std::string(hilo_strerror(status)) + ": " +
                                     hilo_last_error());
        }
        return status;
    }

    hilo_thread_t handle_ = 0;
};

extern "C" void *sleeper(void *arg) {
    long ms = *static_cast<long *>(arg);
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, nullptr);
    std::printf("%s slept %ld ms\n", hilo_current_name(), ms);
    return nullptr;
}

extern "C" void *greeter(void *) {
    std::printf("hello from %s\n", hilo_current_name());
    return nullptr;
}

} // namespace

int main() {
    long ms = 300;
    {
        Thread slow(sleeper, &ms, "slow");
        slow.start();
        bool finished = slow.join(0.05);
        std::printf("after join(0.05): finished=%d alive=%d\n", finished, slow.is_alive());
        finished = slow.join();
        std::printf("after join(): finished=%d alive=%d\n", finished, slow.is_alive());

        Thread greet(greeter, nullptr);
        std::string default_name = greet.name();
        std::printf("default name is Thread-N: %d\n", default_name.compare(0, 7, "Thread-") == 0);
        greet.set_name("Greeter");
        std::printf("daemon (inherited from main): %d\n", greet.daemon());
        greet.start();
        greet.join();

        try {
            greet.start();
        } catch (const std::runtime_error &e) {
            std::printf("second start: %s\n", e.what());
        }

        Thread moved = std::move(greet); // the handle changes owner, once
        std::printf("moved keeps the name: %s\n", moved.name().c_str());
    } // every handle is released here
    std::printf("alive at the end: %zu\n", hilo_active_count());
    return 0;
}
