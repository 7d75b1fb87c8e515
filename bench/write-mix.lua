-- The benchmark's write mix, for wrk: every tenth request a PUT of a new key (the owner's JWT),
-- the others status reads (an sk key). Each PUT drops every instance's caches, so the reads after
-- it go to the database: this is what the pool serves.
local n = 0
local sk, owner, team = os.getenv("MIX_SK"), os.getenv("MIX_OWNER"), os.getenv("MIX_TEAM")

request = function()
  n = n + 1
  if n % 10 == 0 then
    local body = string.format('{"api_key":"comfyui-%032x"}', n)
    return wrk.format("PUT", nil, {["Authorization"] = "Bearer " .. owner, ["X-Team-ID"] = team, ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. sk})
end
