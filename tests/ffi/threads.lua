-- hilo from LuaJIT (docs/ffi.md), run by tests/ffi.rs:
--   luajit threads.lua <preprocessed hilo.h> <libhilo.so> <libffi_targets.so> <workers>
-- The statuses come from the header's enum through ffi.cdef; the threads'
-- targets are C functions (targets.c): a Lua function must not run on
-- another OS thread.
local ffi = require("ffi")

local header_path, libhilo, libtargets, workers = arg[1], arg[2], arg[3], tonumber(arg[4])
local header = assert(io.open(header_path)):read("*a")
ffi.cdef(header)
ffi.cdef([[
struct ffi_job { hilo_event *go; long n; long sum; char name[32]; };
void *ffi_sum_job(void *arg);
]])
local hilo = ffi.load(libhilo)
local targets = ffi.load(libtargets)

local function check(status, what)
    if status ~= hilo.HILO_OK then
        error(what .. ": " .. ffi.string(hilo.hilo_strerror(status)) .. ": "
              .. ffi.string(hilo.hilo_last_error()))
    end
end

local go = hilo.hilo_event_new()
local jobs, threads = {}, {}

local function main()
    for i = 1, workers do
        jobs[i] = ffi.new("struct ffi_job", { go = go, n = i * 100 })
        local out = ffi.new("hilo_thread_t[1]")
        check(hilo.hilo_create(targets.ffi_sum_job, jobs[i], "lua-worker-" .. i, out), "create")
        threads[i] = out[0]
        check(hilo.hilo_start(threads[i]), "start")
    end

    -- Every worker waits for `go`: a join with a timeout times out.
    local status = hilo.hilo_join(threads[1], 0.05, nil)
    print("before go: " .. ffi.string(hilo.hilo_strerror(status))
          .. (status == hilo.HILO_ETIMEDOUT and " (HILO_ETIMEDOUT)" or ""))
    print("alive: " .. tonumber(hilo.hilo_active_count()) - 1 .. " workers")

    check(hilo.hilo_event_set(go), "event set")
    for i = 1, workers do
        local result = ffi.new("void *[1]")
        check(hilo.hilo_join(threads[i], -1, result), "join")
        local job = ffi.cast("struct ffi_job *", result[0])
        print(ffi.string(job.name) .. " sum " .. tonumber(job.sum)
              .. (job == jobs[i] and "" or " (another job!)"))
        check(hilo.hilo_release(threads[i]), "release")
    end

    -- Joining oneself is refused with the enum's HILO_EDEADLK.
    status = hilo.hilo_join(hilo.hilo_current(), -1, nil)
    print("self-join: " .. (status == hilo.HILO_EDEADLK and "HILO_EDEADLK" or tostring(status))
          .. " (" .. ffi.string(hilo.hilo_last_error()) .. ")")
end

-- On an error, let the workers end: the process waits for them at exit,
-- as it does for every non-daemon thread.
local ok, err = pcall(main)
hilo.hilo_event_set(go)
if not ok then
    io.stderr:write(tostring(err) .. "\n")
    os.exit(1)
end
