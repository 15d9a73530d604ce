--[[
  declare.lua - remove reflections from photos taken through glass, from darktable

  Adds a "remove reflection" module to the lighttable's right panel. Its button
  starts a background job (a progress bar with a cancel button; darktable stays
  usable) that exports each selected image as a JPEG, runs declare on it, and
  imports the cleaned photo beside the original, grouped with it, as each one
  lands: NAME.declare.jpg for a JPEG, NAME.EXT.declare.jpg for a raw or other
  file (IMG_1.CR2.declare.jpg), so a RAW+JPEG pair writes two files, not one twice. Cancel stops after the photo being cleaned.

  INSTALL
    declare plugins install darktable
  which copies this file to ~/.config/darktable/lua/contrib/declare.lua and adds
      require "contrib/declare"
  to ~/.config/darktable/luarc. The command darktable runs is a preference
  (lua options > "declare: command"); the installer sets it to the Python that
  declare was installed into.
]]

local dt = require "darktable"

local MODULE = "declare"
local DEFAULT_COMMAND = "declare"

dt.preferences.register(MODULE, "command", "string", "declare: command",
  "the command that runs declare, e.g. /path/to/python -m declare", DEFAULT_COMMAND)

local function quote(text)
  return "'" .. string.gsub(text, "'", "'\\''") .. "'"
end

local function command()
  local configured = dt.preferences.read(MODULE, "command", "string")
  if configured == nil or configured == "" then
    return DEFAULT_COMMAND
  end
  return configured
end

-- Where a photo's result goes: NAME.declare.jpg beside a JPEG (the command line's name),
-- NAME.EXT.declare.jpg beside anything else, so IMG_1.CR2 and IMG_1.JPG do not share one.
local function output_for(image)
  local stem, ext = string.match(image.filename, "^(.+)%.([^.]+)$")
  local lower = ext and string.lower(ext)
  if lower == "jpg" or lower == "jpeg" then
    return image.path .. "/" .. stem .. ".declare.jpg"
  end
  return image.path .. "/" .. image.filename .. ".declare.jpg"
end

local function clean_one(image, jpeg)
  local exported = dt.configuration.tmp_dir .. "/declare-" .. image.id .. ".jpg"
  jpeg:write_image(image, exported)
  local output = output_for(image)
  local status = dt.control.execute(command() .. " " .. quote(exported) .. " -o " .. quote(output)
    .. " --overwrite -q")
  os.remove(exported)
  if status ~= 0 then
    return false
  end
  local cleaned = dt.database.import(output)
  if cleaned then
    cleaned:group_with(image)
  end
  return cleaned ~= nil
end

local running = nil  -- the background job of the batch being cleaned, if any

local function cancel(job)  -- the job's cancel button: stop after the photo being cleaned
  job.valid = false
end

local function clean_all(job, images)
  local jpeg = dt.new_format("jpeg")
  jpeg.quality = 95
  local done = 0
  for i, image in ipairs(images) do
    if not job.valid then
      break
    end
    job.percent = (i - 1) / #images
    if clean_one(image, jpeg) then  -- declare writes whole files only: a cancel never leaves half a photo
      done = done + 1
    else
      dt.print_error("declare failed on " .. image.filename)
    end
    dt.control.sleep(1)  -- lets a click on the job's cancel button through between photos
  end
  local cancelled = not job.valid
  if job.valid then
    job.valid = false  -- removes the progress bar
  end
  running = nil
  if cancelled then
    dt.print(string.format("declare: cancelled; %d of %d photos cleaned", done, #images))
  else
    dt.print(string.format("declare: %d of %d photos cleaned", done, #images))
  end
end

-- The button: clean the selected photos one at a time in a background job with a progress
-- bar and a cancel button, importing each result as it lands; darktable stays usable.
local function remove_reflection()
  if running then
    dt.print("declare: already cleaning; cancel that job first")
    return
  end
  local images = {}
  for i, image in ipairs(dt.gui.action_images) do
    images[i] = image  -- a copy: the selection may change while the job runs
  end
  if #images == 0 then
    dt.print("declare: select the photos to clean first")
    return
  end
  running = dt.gui.create_job("declare: removing reflections", true, cancel)
  dt.control.dispatch(clean_all, running, images)
end

local button = dt.new_widget("button") {
  label = "remove reflection",
  tooltip = "clean the selected photos with declare and import the results grouped with them",
  clicked_callback = remove_reflection,
}

dt.register_lib(MODULE, "remove reflection", true, false,
  {[dt.gui.views.lighttable] = {"DT_UI_CONTAINER_PANEL_RIGHT_CENTER", 700}},
  dt.new_widget("box") {
    orientation = "vertical",
    button,
  },
  nil, nil)

-- `require "contrib/declare"` hands scripts (and our tests) what the button does, the
-- running job (nil when idle) and what its cancel button does.
return {
  remove_reflection = remove_reflection,
  output_for = output_for,
  button = button,
  job = function() return running end,
  cancel = function() if running then cancel(running) end end,
}
