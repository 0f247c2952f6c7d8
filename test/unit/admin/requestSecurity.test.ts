import { contentSecurityPolicy, isAdminApiPath, isAdminPath, originOf } from '../../../connector/src/admin/adminSecurityHeaders.js';
import { isSameOriginRequest } from '../../../connector/src/admin/requestOrigin.js';
import { isCsrfTokenValid } from '../../../connector/src/admin/AdminSessions.js';

const req = (headers: Record<string, string>) => ({ get: (name: string) => headers[name] ?? '' });

describe('admin request security', () => {
  test('the CSP allows scripts from the bridge and the DS public origin only', () => {
    expect(contentSecurityPolicy([originOf('https://office.example.com/ds/'), null, originOf('https://office.example.com')])).toBe(
      "default-src 'self'; script-src 'self' https://office.example.com; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(contentSecurityPolicy()).toContain("script-src 'self';");
    expect(originOf('javascript:alert(1)')).toBeNull();
  });

  test('admin paths', () => {
    expect(isAdminPath('/admin')).toBe(true);
    expect(isAdminPath('/admin/assets/a.js')).toBe(true);
    expect(isAdminPath('/administrator')).toBe(false);
    expect(isAdminApiPath('/admin/api/login')).toBe(true);
    expect(isAdminApiPath('/admin/apix')).toBe(false);
  });

  test('same origin: PUBLIC_URL or the request host; cross-site, null and garbage are refused; absent passes', () => {
    const pub = 'https://bridge.example.com';
    expect(isSameOriginRequest(req({ Origin: 'https://bridge.example.com', Host: '10.0.0.5:8080' }), pub)).toBe(true);
    expect(isSameOriginRequest(req({ Origin: 'http://10.0.0.5:8080', Host: '10.0.0.5:8080' }), pub)).toBe(true);
    expect(isSameOriginRequest(req({ Origin: 'https://evil.example', Host: '10.0.0.5:8080' }), pub)).toBe(false);
    expect(isSameOriginRequest(req({ Origin: 'null', Host: '10.0.0.5:8080' }), pub)).toBe(false);
    expect(isSameOriginRequest(req({ Referer: 'https://evil.example/x', Host: 'bridge.example.com' }), pub)).toBe(false);
    expect(isSameOriginRequest(req({ Referer: 'https://bridge.example.com/admin/', Host: 'x' }), pub)).toBe(true);
    expect(isSameOriginRequest(req({ Host: 'x' }), pub)).toBe(true);
  });

  test('CSRF tokens compare exactly', () => {
    expect(isCsrfTokenValid('abc', 'abc')).toBe(true);
    expect(isCsrfTokenValid('abd', 'abc')).toBe(false);
    expect(isCsrfTokenValid(undefined, 'abc')).toBe(false);
    expect(isCsrfTokenValid('', '')).toBe(false);
  });
});
