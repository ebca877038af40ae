/** A link that opens OpenStreetMap at a point (a link only: nothing is loaded from there). */
export function osmLink(lat: number, lon: number): string {
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=18/${lat}/${lon}`
}
