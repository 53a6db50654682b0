import { request } from 'node:http'

/** True when GET `url` answers 2xx within `timeoutMs` (a readiness probe: any error is "not yet"). */
export function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise(resolve => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, res => {
      res.resume()
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.end()
  })
}
