-- wrk's request script for `make bench-http`: DEPTH requests sent back to back in one write
-- (TechEmpower's plaintext test uses 16), so a server must answer pipelined requests. With no
-- argument, one request a write, as a browser or an HTTP client sends them.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
