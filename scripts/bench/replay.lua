-- wrk script for scripts/bench.sh: replays prepared requests and counts the
-- answers by status class.
--
--   wrk ... -s replay.lua URL -- NTHREADS [FILE [once]]
--
-- FILE holds one request a line, METHOD<TAB>PATH<TAB>COOKIE<TAB>BODY (written by
-- bench.py; a non-empty BODY is sent form-encoded). Thread k of NTHREADS keeps
-- lines k, k+NTHREADS, ... and cycles through them. With `once`, every line is
-- meant to be sent at most once (first-visit tokens): a thread that runs out
-- starts over, and counts each repeat in `reused` so the report can refuse the run.
-- Without FILE, every request is a GET of URL.
--
-- done() prints one line, `BENCH_JSON {...}`, that bench.py reads.

local threads = {}
local next_id = 0

-- setup() runs in the main Lua state, once per thread, before that thread's
-- init(): it numbers the threads and keeps them so done() can read their counters.
function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- The per-thread counters, read back by done() through thread:get().
local COUNTERS = { "sent", "responses", "s2xx", "s3xx", "s4xx", "s5xx", "sother", "s303", "reused" }

function init(args)
   for _, k in ipairs(COUNTERS) do _G[k] = 0 end
   local nthreads = tonumber(args[1]) or error("replay.lua: pass NTHREADS after --")
   local file = args[2]
   once = args[3] == "once"
   reqs = {}
   if file then
      local i = 0
      for line in io.lines(file) do
         if i % nthreads == id then
            local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
            if not method then error("replay.lua: bad line " .. (i + 1) .. " in " .. file) end
            local headers = { Host = wrk.headers["Host"] }
            if cookie ~= "" then headers["Cookie"] = cookie end
            if body == "" then
               body = nil
            else
               headers["Content-Type"] = "application/x-www-form-urlencoded"
            end
            -- Pre-formatted: building requests while measuring would cost wrk's CPU,
            -- which this 2-core machine shares with the server.
            reqs[#reqs + 1] = wrk.format(method, path, headers, body)
         end
         i = i + 1
      end
      if #reqs == 0 then error("replay.lua: no lines for thread " .. id .. " in " .. file) end
   else
      reqs[1] = wrk.format()
   end
   nreqs = #reqs
   pos = 0
end

function request()
   pos = pos + 1
   if pos > nreqs then pos = 1 end
   sent = sent + 1
   if once and sent > nreqs then reused = reused + 1 end
   return reqs[pos]
end

-- Defining response() makes wrk parse every answer; that is the price of
-- counting statuses, paid equally by every scenario.
function response(status, headers, body)
   responses = responses + 1
   if status == 303 then s303 = s303 + 1 end
   if status >= 200 and status < 300 then s2xx = s2xx + 1
   elseif status >= 300 and status < 400 then s3xx = s3xx + 1
   elseif status >= 400 and status < 500 then s4xx = s4xx + 1
   elseif status >= 500 and status < 600 then s5xx = s5xx + 1
   else sother = sother + 1 end
end

function done(summary, latency, requests)
   local total = {}
   for _, k in ipairs(COUNTERS) do total[k] = 0 end
   for _, thread in ipairs(threads) do
      for _, k in ipairs(COUNTERS) do total[k] = total[k] + thread:get(k) end
   end
   local e = summary.errors
   local fields = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"rps":%.1f', summary.requests / (summary.duration / 1e6)),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"max_us":%d', latency.max),
      string.format('"connect":%d,"read":%d,"write":%d,"timeout":%d,"status_errors":%d',
                    e.connect, e.read, e.write, e.timeout, e.status),
   }
   for _, k in ipairs(COUNTERS) do
      fields[#fields + 1] = string.format('"%s":%d', k, total[k])
   end
   io.write("BENCH_JSON {" .. table.concat(fields, ",") .. "}\n")
end
