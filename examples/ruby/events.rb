#!/usr/bin/env ruby
# frozen_string_literal: true

# Example client of the 1Password Events API, using only Ruby's standard
# library (net/http). It works against 1Password's own servers and against
# Logbook.
#
# 1. The bearer token comes from OP_EVENTS_TOKEN (never from the command line,
#    where other users could see it in the process list).
# 2. The base URL comes from OP_EVENTS_URL, or else from the token itself: a
#    token is a JWT whose payload names the Events host in aud[0].
# 3. GET /api/v2/auth/introspect tells which features the token opens.
# 4. For each feature, POST /api/v2/<feature> with a reset cursor
#    ({"limit", "start_time"}) the first time, or with the cursor saved by the
#    previous run ({"cursor"}), and follow has_more page by page.
# 5. Every event goes to stdout as one JSON line; the last cursor of each
#    feature is saved to a state file after each page, so the next run
#    continues where this one stopped.
#
# Delivery is at least once: if the program dies between printing a page and
# saving its cursor, the next run prints that page again. Dedupe on "uuid" if
# duplicates matter.
#
# Usage:
#   OP_EVENTS_TOKEN=... ruby events.rb [--start-time 2025-01-01T00:00:00Z] [--limit 100] [--state FILE]

require 'base64'
require 'json'
require 'net/http'
require 'optparse'
require 'tempfile'
require 'time'
require 'uri'

MAX_ATTEMPTS = 5   # tries per request on 429, 5xx or network errors
FIRST_BACKOFF = 1  # seconds before the first retry; doubles each time

class UsageError < StandardError; end

# Logs go to stderr so that stdout carries nothing but events.
def log(msg)
  warn "events: #{msg}"
end

# audience returns aud[0] of the JWT: the Events host the token was issued
# for. The signature is not checked here; the server does that.
def audience(token)
  parts = token.split('.')
  raise UsageError, 'OP_EVENTS_URL is not set and OP_EVENTS_TOKEN is not a JWT' unless parts.length == 3

  aud = JSON.parse(Base64.urlsafe_decode64(parts[1]))['aud']
  raise KeyError unless aud.is_a?(Array) && aud[0].is_a?(String) && !aud[0].empty?

  aud[0]
rescue ArgumentError, JSON::ParserError, KeyError, TypeError
  raise UsageError, 'OP_EVENTS_URL is not set and OP_EVENTS_TOKEN has no aud claim naming the Events host'
end

# message extracts the text of an error reply, {"Error":{"Message":"..."}}.
def message(body)
  JSON.parse(body).dig('Error', 'Message') || body.to_s.strip
rescue JSON::ParserError, TypeError
  body.to_s.strip
end

# Client makes authenticated calls and retries those worth retrying.
class Client
  def initialize(base, token)
    @base = URI(base.chomp('/'))
    @token = token
  end

  # call sends body (if any) as JSON and returns the decoded 200 reply. It
  # waits and retries on 429 (for Retry-After seconds), on 5xx and on network
  # errors. Re-sending is safe: the Events API lets a client replay a cursor.
  def call(method, path, body = nil)
    uri = URI.join(@base.to_s + '/', path.delete_prefix('/'))
    (1..MAX_ATTEMPTS).each do |attempt|
      wait = FIRST_BACKOFF * 2**(attempt - 1)
      req = method == :post ? Net::HTTP::Post.new(uri) : Net::HTTP::Get.new(uri)
      req['Authorization'] = "Bearer #{@token}"
      req['Accept'] = 'application/json'
      if body
        req['Content-Type'] = 'application/json'
        req.body = JSON.generate(body)
      end
      begin
        res = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == 'https',
                                                  open_timeout: 30, read_timeout: 30) { |http| http.request(req) }
        code = res.code.to_i
        case code
        when 200
          return JSON.parse(res.body)
        when 429
          wait = Integer(res['Retry-After'], 10) if res['Retry-After'].to_s.match?(/\A\d+\z/)
          log "rate limited on #{path}"
        when 500..599
          log "server error #{code} on #{path}"
        when 401
          raise "401 #{message(res.body)}: the token is invalid, expired or revoked, " \
                'or lacks this feature; check OP_EVENTS_TOKEN and OP_EVENTS_URL'
        when 400
          raise "400 #{message(res.body)}: the server rejected the request; " \
                'if a saved cursor is stale, delete the state file and start again'
        else
          raise "unexpected status #{code} #{message(res.body)} from #{path}"
        end
      rescue SystemCallError, IOError, Timeout::Error, SocketError => e
        # The server could not be reached or was too slow.
        log "request to #{path} failed: #{e.message}"
      end
      raise "giving up on #{path} after #{attempt} attempts" if attempt == MAX_ATTEMPTS

      log "retrying #{path} in #{wait}s (attempt #{attempt + 1})"
      sleep wait
    end
  end
end

# load_state reads the saved cursors, one per feature; no file, no cursors.
def load_state(path)
  JSON.parse(File.read(path))
rescue Errno::ENOENT
  {}
rescue JSON::ParserError
  raise "state file #{path} is not a JSON object of cursors"
end

# save_state writes the cursors atomically: a temporary file in the same
# directory, flushed to disk, then renamed over the old one. A crash leaves
# either the old state or the new, never half of one.
def save_state(path, state)
  tmp = Tempfile.create([File.basename(path) + '.tmp', ''], File.dirname(File.expand_path(path)))
  begin
    tmp.write(JSON.pretty_generate(state), "\n")
    tmp.flush
    tmp.fsync
    tmp.close
    File.rename(tmp.path, path)
  rescue StandardError
    tmp.close unless tmp.closed?
    File.unlink(tmp.path) if File.exist?(tmp.path)
    raise
  end
end

def parse_options
  opts = { limit: 100, state: ENV['OP_EVENTS_STATE'].to_s.empty? ? 'events-state.json' : ENV['OP_EVENTS_STATE'] }
  OptionParser.new do |o|
    o.banner = 'usage: events.rb [--start-time TIME] [--limit N] [--state FILE]'
    o.on('--start-time TIME', 'RFC 3339 time to start from when a feature has no saved cursor (default 24 hours ago)') do |v|
      opts[:start] = Time.iso8601(v)
    rescue ArgumentError
      raise UsageError, "--start-time #{v.inspect}: not an RFC 3339 time such as 2025-01-01T00:00:00Z"
    end
    o.on('--limit N', Integer, 'events per page, 1-1000') { |v| opts[:limit] = v }
    o.on('--state FILE', 'file that keeps the last cursor of each feature (env OP_EVENTS_STATE)') { |v| opts[:state] = v }
  end.parse!
  raise UsageError, "--limit #{opts[:limit]}: must be between 1 and 1000" unless (1..1000).cover?(opts[:limit])

  opts[:start] ||= Time.now - 24 * 3600
  opts
rescue OptionParser::ParseError => e
  raise UsageError, e.message
end

def main
  opts = parse_options
  token = ENV['OP_EVENTS_TOKEN'].to_s.strip
  raise UsageError, 'OP_EVENTS_TOKEN is not set' if token.empty?

  base = ENV['OP_EVENTS_URL'].to_s.empty? ? "https://#{audience(token)}" : ENV['OP_EVENTS_URL']
  client = Client.new(base, token)

  intro = client.call(:get, '/api/v2/auth/introspect')
  log "token features: #{intro['features'].join(', ')}"

  state = load_state(opts[:state])
  intro['features'].each do |feature|
    # A saved cursor continues the stream; without one, a reset cursor starts
    # it. Times are sent in UTC, as RFC 3339.
    body = if state[feature].to_s.empty?
             { limit: opts[:limit], start_time: opts[:start].utc.iso8601 }
           else
             { cursor: state[feature] }
           end
    n = 0
    loop do
      page = client.call(:post, "/api/v2/#{feature}", body)
      page['items'].each { |event| $stdout.write(JSON.generate(event), "\n") }
      # Print the page before saving its cursor: a crash in between repeats
      # the page rather than losing it.
      $stdout.flush
      n += page['items'].length
      state[feature] = page['cursor']
      save_state(opts[:state], state)
      break unless page['has_more']

      body = { cursor: page['cursor'] }
    end
    log "#{feature}: #{n} events"
  end
end

begin
  main
rescue UsageError => e
  log "error: #{e.message}"
  exit 2
rescue StandardError => e
  log "error: #{e.message}"
  exit 1
rescue Interrupt
  exit 130
end
